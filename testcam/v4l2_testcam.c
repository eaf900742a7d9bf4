/*
 * A V4L2 test camera in user space, loaded with LD_PRELOAD into the real binary.
 *
 * It emulates what nokhwa (through the `v4l` crate) does with a camera: it lists
 * /dev/video<N> (readdir on /dev), reads /sys/class/video4linux/video<N>/name, opens the
 * node, and talks to it with ioctls (through syscall(SYS_ioctl, ...), which is how `v4l`
 * calls them), mmap and poll. The device file descriptor is a memfd: mmap of its buffers is
 * real shared memory, and close is a real close. Nothing is created under /dev.
 *
 * Configuration: GP_TESTCAM_DIR names a directory made by `gallery-painter test-camera`:
 *   camera.conf   key=value lines (name, index, formats, sizes, fps, faults)
 *   WxH.yuyv      frames, YUYV 4:2:2, concatenated
 *   WxH-K.jpg     frames, JPEG (served as MJPEG)
 * GP_TESTCAM_TRACE=1 logs every emulated call to stderr ("testcam: ...").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZES 8
#define MAX_FPS 8
#define MAX_BUFS 8
#define MAX_FRAMES 256

struct size { unsigned w, h; };

struct frames {
    unsigned w, h;
    int loaded;
    unsigned char *yuyv; /* count * w * h * 2 */
    unsigned yuyv_count;
    unsigned char *jpeg[MAX_FRAMES];
    size_t jpeg_len[MAX_FRAMES];
    unsigned jpeg_count;
};

static struct {
    int ready;
    char dir[1024];
    char name[32];
    int index;
    int yuyv, mjpeg;
    struct size sizes[MAX_SIZES];
    int nsizes;
    unsigned fps[MAX_FPS];
    int nfps;
    /* faults */
    long unplug_after;   /* frames delivered before the camera disappears (0: never) */
    double replug_after; /* seconds until it comes back (0: never) */
    int unplug_repeat;   /* unplugged again every unplug_after frames after each replug */
    long corrupt_every;  /* every K-th MJPEG frame is corrupt (0: never) */
    long stall_after;    /* frames before a stall (0: never) */
    double stall_s;      /* length of the stall */
    long busy_opens;     /* the first K opens fail with EBUSY */
    char unplug_file[512]; /* unplugged while this file exists (a test decides when) */
    char stall_file[512];  /* no frames while this file exists */
    int trace;
    /* device state (one camera per process) */
    int unplugged;
    double unplugged_at;
    long delivered;      /* frames delivered since the process started */
    int stalled_once;
    struct frames frames[MAX_SIZES];
} cam;

struct fake {
    int fd;
    unsigned w, h;
    uint32_t fourcc;
    unsigned fps;
    unsigned nbufs;
    size_t buflen;
    unsigned char *map;
    int queued[MAX_BUFS];
    int streaming;
    double started;
    unsigned long seq;
    double stall_until;
    int file_stalled;    /* the stall file was there at the last look */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake *fakes[1024];
static DIR *dev_dirs[16];
static int dev_dir_state[16]; /* 0: real entries, 1: fake served */
static struct dirent64 fake_dirent64;
static struct dirent fake_dirent;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define TRACE(...) do { if (cam.trace) { fprintf(stderr, "testcam: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static void parse_list_u(const char *v, unsigned *out, int *n, int max) {
    *n = 0;
    while (*v && *n < max) {
        out[(*n)++] = (unsigned)strtoul(v, (char **)&v, 10);
        while (*v == ',' || *v == ' ') v++;
    }
}

static void load_config(void) {
    if (cam.ready) return;
    cam.ready = 1;
    cam.yuyv = cam.mjpeg = 1;
    snprintf(cam.name, sizeof cam.name, "Gallery Test Camera");
    cam.sizes[0] = (struct size){640, 480};
    cam.nsizes = 1;
    cam.fps[0] = 30;
    cam.nfps = 1;
    const char *trace = getenv("GP_TESTCAM_TRACE");
    cam.trace = trace && *trace == '1';
    const char *dir = getenv("GP_TESTCAM_DIR");
    if (!dir) return;
    snprintf(cam.dir, sizeof cam.dir, "%s", dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/camera.conf", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "testcam: cannot read %s: %s\n", path, strerror(errno));
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (!eq || line[0] == '#') continue;
        *eq = 0;
        char *k = line, *v = eq + 1;
        v[strcspn(v, "\n")] = 0;
        if (!strcmp(k, "name")) snprintf(cam.name, sizeof cam.name, "%s", v);
        else if (!strcmp(k, "index")) cam.index = atoi(v);
        else if (!strcmp(k, "formats")) { cam.yuyv = strstr(v, "yuyv") != NULL; cam.mjpeg = strstr(v, "mjpeg") != NULL; }
        else if (!strcmp(k, "sizes")) {
            cam.nsizes = 0;
            while (*v && cam.nsizes < MAX_SIZES) {
                unsigned w = strtoul(v, &v, 10);
                if (*v != 'x') break;
                unsigned h = strtoul(v + 1, &v, 10);
                cam.sizes[cam.nsizes++] = (struct size){w, h};
                while (*v == ',' || *v == ' ') v++;
            }
        }
        else if (!strcmp(k, "fps")) parse_list_u(v, cam.fps, &cam.nfps, MAX_FPS);
        else if (!strcmp(k, "unplug_after")) cam.unplug_after = atol(v);
        else if (!strcmp(k, "replug_after_s")) cam.replug_after = atof(v);
        else if (!strcmp(k, "unplug_repeat")) cam.unplug_repeat = atoi(v);
        else if (!strcmp(k, "corrupt_every")) cam.corrupt_every = atol(v);
        else if (!strcmp(k, "stall_after")) cam.stall_after = atol(v);
        else if (!strcmp(k, "stall_s")) cam.stall_s = atof(v);
        else if (!strcmp(k, "busy_opens")) cam.busy_opens = atol(v);
        else if (!strcmp(k, "unplug_file")) snprintf(cam.unplug_file, sizeof cam.unplug_file, "%s", v);
        else if (!strcmp(k, "stall_file")) snprintf(cam.stall_file, sizeof cam.stall_file, "%s", v);
    }
    fclose(f);
    for (int i = 0; i < cam.nsizes; i++) cam.frames[i].w = cam.sizes[i].w, cam.frames[i].h = cam.sizes[i].h;
    TRACE("camera \"%s\" at /dev/video%d, yuyv %d mjpeg %d, %d sizes, %d rates", cam.name, cam.index, cam.yuyv,
          cam.mjpeg, cam.nsizes, cam.nfps);
}

static int file_exists(const char *path) {
    struct stat st;
    return path[0] && stat(path, &st) == 0;
}

/* Unplugged, and back after replug_after seconds (or while the unplug file exists). */
static int present(void) {
    if (cam.unplug_file[0]) {
        int gone = file_exists(cam.unplug_file);
        if (gone != cam.unplugged) {
            cam.unplugged = gone;
            cam.unplugged_at = now_s();
            TRACE("%s", gone ? "unplugged (unplug file)" : "replugged (unplug file gone)");
        }
        return !gone;
    }
    if (cam.unplugged && cam.replug_after > 0 && now_s() - cam.unplugged_at >= cam.replug_after) {
        cam.unplugged = 0;
        cam.delivered = 0;
        if (!cam.unplug_repeat) cam.unplug_after = 0; /* once */
        TRACE("replugged");
    }
    return !cam.unplugged;
}

/* ---- the real functions ---- */
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static long (*real_syscall)(long, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static DIR *(*real_opendir)(const char *);
static struct dirent64 *(*real_readdir64)(DIR *);
static struct dirent *(*real_readdir)(DIR *);
static int (*real_closedir)(DIR *);

static void resolve(void) {
    if (real_open) return;
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_close = dlsym(RTLD_NEXT, "close");
    real_syscall = dlsym(RTLD_NEXT, "syscall");
    real_ioctl = dlsym(RTLD_NEXT, "ioctl");
    real_poll = dlsym(RTLD_NEXT, "poll");
    real_opendir = dlsym(RTLD_NEXT, "opendir");
    real_readdir64 = dlsym(RTLD_NEXT, "readdir64");
    real_readdir = dlsym(RTLD_NEXT, "readdir");
    real_closedir = dlsym(RTLD_NEXT, "closedir");
}

/* ---- frames ---- */
static unsigned char *read_file(const char *path, size_t *len) {
    int fd = real_open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    fstat(fd, &st);
    unsigned char *buf = malloc(st.st_size ? st.st_size : 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, st.st_size - got);
        if (r <= 0) break;
        got += r;
    }
    real_close(fd);
    *len = got;
    return buf;
}

static struct frames *frames_for(unsigned w, unsigned h) {
    for (int i = 0; i < cam.nsizes; i++) {
        struct frames *fr = &cam.frames[i];
        if (fr->w != w || fr->h != h) continue;
        if (!fr->loaded) {
            fr->loaded = 1;
            char path[1200];
            size_t len = 0;
            snprintf(path, sizeof path, "%s/%ux%u.yuyv", cam.dir, w, h);
            fr->yuyv = read_file(path, &len);
            fr->yuyv_count = fr->yuyv ? len / ((size_t)w * h * 2) : 0;
            for (unsigned k = 0; k < MAX_FRAMES; k++) {
                snprintf(path, sizeof path, "%s/%ux%u-%u.jpg", cam.dir, w, h, k);
                fr->jpeg[k] = read_file(path, &fr->jpeg_len[k]);
                if (!fr->jpeg[k]) break;
                fr->jpeg_count = k + 1;
            }
            TRACE("loaded %u YUYV and %u JPEG frames at %ux%u", fr->yuyv_count, fr->jpeg_count, w, h);
        }
        return fr;
    }
    return NULL;
}

/* Writes frame `seq` into `dst`; returns bytes used. */
static size_t fill(struct fake *f, unsigned char *dst, unsigned long seq) {
    struct frames *fr = frames_for(f->w, f->h);
    size_t n = 0;
    if (f->fourcc == V4L2_PIX_FMT_YUYV) {
        n = (size_t)f->w * f->h * 2;
        if (fr && fr->yuyv_count) memcpy(dst, fr->yuyv + (seq % fr->yuyv_count) * n, n);
        else memset(dst, 128, n);
    } else {
        if (fr && fr->jpeg_count) {
            unsigned k = seq % fr->jpeg_count;
            n = fr->jpeg_len[k] < f->buflen ? fr->jpeg_len[k] : f->buflen;
            memcpy(dst, fr->jpeg[k], n);
        }
        if (cam.corrupt_every > 0 && (seq + 1) % cam.corrupt_every == 0) {
            /* A corrupt frame, as a flaky USB link delivers it: a JPEG start and then noise. */
            size_t bad = n > 600 ? 600 : n;
            for (size_t i = 4; i < bad; i++) dst[i] = (unsigned char)(i * 131 + seq);
            n = bad;
            TRACE("frame %lu is corrupt", seq);
        }
    }
    return n;
}

/* ---- formats ---- */
static int offers(uint32_t fourcc) {
    return (fourcc == V4L2_PIX_FMT_YUYV && cam.yuyv) || (fourcc == V4L2_PIX_FMT_MJPEG && cam.mjpeg);
}

static uint32_t format_at(unsigned i) {
    uint32_t list[2];
    unsigned n = 0;
    if (cam.mjpeg) list[n++] = V4L2_PIX_FMT_MJPEG;
    if (cam.yuyv) list[n++] = V4L2_PIX_FMT_YUYV;
    return i < n ? list[i] : 0;
}

static void describe(struct fake *f, struct v4l2_pix_format *pix) {
    memset(pix, 0, sizeof *pix);
    pix->width = f->w;
    pix->height = f->h;
    pix->pixelformat = f->fourcc;
    pix->field = V4L2_FIELD_NONE;
    pix->bytesperline = f->fourcc == V4L2_PIX_FMT_YUYV ? f->w * 2 : 0;
    pix->sizeimage = f->w * f->h * 2;
    pix->colorspace = f->fourcc == V4L2_PIX_FMT_YUYV ? V4L2_COLORSPACE_SMPTE170M : V4L2_COLORSPACE_JPEG;
}

/* The nearest offered size and format, as a driver adjusts a request. */
static void adjust(struct fake *f, unsigned w, unsigned h, uint32_t fourcc) {
    long best = -1;
    for (int i = 0; i < cam.nsizes; i++) {
        long dw = (long)cam.sizes[i].w - w, dh = (long)cam.sizes[i].h - h, d = dw * dw + dh * dh;
        if (best < 0 || d < best) best = d, f->w = cam.sizes[i].w, f->h = cam.sizes[i].h;
    }
    f->fourcc = offers(fourcc) ? fourcc : format_at(0);
}

static unsigned nearest_fps(unsigned want) {
    unsigned best = cam.fps[0];
    for (int i = 0; i < cam.nfps; i++)
        if (labs((long)cam.fps[i] - want) < labs((long)best - want)) best = cam.fps[i];
    return best;
}

static int fail(int e) {
    errno = e;
    return -1;
}

static const char *ioctl_name(unsigned long req) {
    switch (req) {
    case VIDIOC_QUERYCAP: return "QUERYCAP";
    case VIDIOC_ENUM_FMT: return "ENUM_FMT";
    case VIDIOC_ENUM_FRAMESIZES: return "ENUM_FRAMESIZES";
    case VIDIOC_ENUM_FRAMEINTERVALS: return "ENUM_FRAMEINTERVALS";
    case VIDIOC_G_FMT: return "G_FMT";
    case VIDIOC_S_FMT: return "S_FMT";
    case VIDIOC_TRY_FMT: return "TRY_FMT";
    case VIDIOC_G_PARM: return "G_PARM";
    case VIDIOC_S_PARM: return "S_PARM";
    case VIDIOC_REQBUFS: return "REQBUFS";
    case VIDIOC_QUERYBUF: return "QUERYBUF";
    case VIDIOC_QBUF: return "QBUF";
    case VIDIOC_DQBUF: return "DQBUF";
    case VIDIOC_STREAMON: return "STREAMON";
    case VIDIOC_STREAMOFF: return "STREAMOFF";
    case VIDIOC_QUERYCTRL: return "QUERYCTRL";
    case VIDIOC_QUERY_EXT_CTRL: return "QUERY_EXT_CTRL";
    case VIDIOC_G_CTRL: return "G_CTRL";
    case VIDIOC_S_CTRL: return "S_CTRL";
    case VIDIOC_G_EXT_CTRLS: return "G_EXT_CTRLS";
    case VIDIOC_S_EXT_CTRLS: return "S_EXT_CTRLS";
    case VIDIOC_QUERYMENU: return "QUERYMENU";
    case VIDIOC_G_INPUT: return "G_INPUT";
    case VIDIOC_ENUMINPUT: return "ENUMINPUT";
    default: return "?";
    }
}

static void release_buffers(struct fake *f) {
    if (f->map) munmap(f->map, f->buflen * f->nbufs);
    f->map = NULL;
    f->nbufs = 0;
    memset(f->queued, 0, sizeof f->queued);
}

/* Is a frame due now? Returns seconds to wait (0: due), or -1 while stalled without end. */
static double wait_for_frame(struct fake *f) {
    double t = now_s();
    if (file_exists(cam.stall_file)) {
        if (!f->file_stalled) TRACE("stalled (stall file)");
        f->file_stalled = 1;
        return 0.05;
    }
    if (f->file_stalled) {
        /* Frames resume at the camera's pace from now, not in a burst to catch up. */
        f->file_stalled = 0;
        f->started = t - (double)f->seq / f->fps;
        TRACE("stall file gone: frames again");
    }
    if (t < f->stall_until) return f->stall_until - t;
    double due = f->started + (double)f->seq / f->fps;
    return due > t ? due - t : 0;
}

static int handle_ioctl(struct fake *f, unsigned long req, void *arg) {
    TRACE("ioctl %s", ioctl_name(req));
    if (!present()) return fail(ENODEV);
    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        memset(c, 0, sizeof *c);
        snprintf((char *)c->driver, sizeof c->driver, "gp-testcam");
        snprintf((char *)c->card, sizeof c->card, "%s", cam.name);
        snprintf((char *)c->bus_info, sizeof c->bus_info, "usb-testcam-%d", cam.index);
        c->version = 0x060100;
        c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
        c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
        return 0;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *d = arg;
        if (d->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return fail(EINVAL);
        uint32_t fcc = format_at(d->index);
        if (!fcc) return fail(EINVAL);
        unsigned idx = d->index, type = d->type;
        memset(d, 0, sizeof *d);
        d->index = idx;
        d->type = type;
        d->pixelformat = fcc;
        d->flags = fcc == V4L2_PIX_FMT_MJPEG ? V4L2_FMT_FLAG_COMPRESSED : 0;
        snprintf((char *)d->description, sizeof d->description, fcc == V4L2_PIX_FMT_MJPEG ? "Motion-JPEG" : "YUYV 4:2:2");
        return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
        struct v4l2_frmsizeenum *s = arg;
        if (!offers(s->pixel_format) || s->index >= (unsigned)cam.nsizes) return fail(EINVAL);
        s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
        s->discrete.width = cam.sizes[s->index].w;
        s->discrete.height = cam.sizes[s->index].h;
        return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
        struct v4l2_frmivalenum *i = arg;
        int size_ok = 0;
        for (int k = 0; k < cam.nsizes; k++) size_ok |= cam.sizes[k].w == i->width && cam.sizes[k].h == i->height;
        if (!offers(i->pixel_format) || !size_ok || i->index >= (unsigned)cam.nfps) return fail(EINVAL);
        i->type = V4L2_FRMIVAL_TYPE_DISCRETE;
        i->discrete.numerator = 1;
        i->discrete.denominator = cam.fps[i->index];
        return 0;
    }
    case VIDIOC_G_FMT:
    case VIDIOC_S_FMT:
    case VIDIOC_TRY_FMT: {
        struct v4l2_format *fmt = arg;
        if (fmt->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return fail(EINVAL);
        if (req == VIDIOC_G_FMT) {
            describe(f, &fmt->fmt.pix);
            return 0;
        }
        struct fake tmp = *f;
        adjust(&tmp, fmt->fmt.pix.width, fmt->fmt.pix.height, fmt->fmt.pix.pixelformat);
        if (req == VIDIOC_S_FMT) {
            if (f->nbufs) return fail(EBUSY);
            f->w = tmp.w, f->h = tmp.h, f->fourcc = tmp.fourcc;
            TRACE("format %ux%u %.4s", f->w, f->h, (char *)&f->fourcc);
        }
        describe(&tmp, &fmt->fmt.pix);
        return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
        struct v4l2_streamparm *p = arg;
        if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return fail(EINVAL);
        if (req == VIDIOC_S_PARM) {
            struct v4l2_fract tpf = p->parm.capture.timeperframe;
            unsigned want = tpf.numerator ? tpf.denominator / tpf.numerator : f->fps;
            f->fps = nearest_fps(want);
            TRACE("frame rate %u", f->fps);
        }
        memset(&p->parm, 0, sizeof p->parm);
        p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
        p->parm.capture.timeperframe.numerator = 1;
        p->parm.capture.timeperframe.denominator = f->fps;
        return 0;
    }
    case VIDIOC_REQBUFS: {
        struct v4l2_requestbuffers *r = arg;
        if (r->memory != V4L2_MEMORY_MMAP || r->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return fail(EINVAL);
        if (f->streaming) return fail(EBUSY);
        release_buffers(f);
        if (r->count == 0) return 0;
        f->nbufs = r->count > MAX_BUFS ? MAX_BUFS : r->count;
        f->buflen = ((size_t)f->w * f->h * 2 + 4095) & ~(size_t)4095;
        if (ftruncate(f->fd, f->buflen * f->nbufs) < 0) return -1;
        f->map = mmap(NULL, f->buflen * f->nbufs, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
        if (f->map == MAP_FAILED) {
            f->map = NULL;
            return fail(ENOMEM);
        }
        r->count = f->nbufs;
        r->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP;
        return 0;
    }
    case VIDIOC_QUERYBUF:
    case VIDIOC_QBUF: {
        struct v4l2_buffer *b = arg;
        if (b->index >= f->nbufs || b->memory != V4L2_MEMORY_MMAP) return fail(EINVAL);
        if (req == VIDIOC_QBUF) {
            f->queued[b->index] = 1;
            b->flags |= V4L2_BUF_FLAG_QUEUED;
            return 0;
        }
        b->length = f->buflen;
        b->m.offset = b->index * f->buflen;
        b->flags = (f->queued[b->index] ? V4L2_BUF_FLAG_QUEUED : 0) | V4L2_BUF_FLAG_MAPPED;
        return 0;
    }
    case VIDIOC_DQBUF: {
        struct v4l2_buffer *b = arg;
        if (!f->streaming) return fail(EINVAL);
        if (wait_for_frame(f) > 0) return fail(EAGAIN);
        int idx = -1;
        for (unsigned i = 0; i < f->nbufs; i++)
            if (f->queued[i]) { idx = i; break; }
        if (idx < 0) return fail(EAGAIN);
        f->queued[idx] = 0;
        size_t used = fill(f, f->map + idx * f->buflen, f->seq);
        memset(b, 0, sizeof *b);
        b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b->memory = V4L2_MEMORY_MMAP;
        b->index = idx;
        b->bytesused = used;
        b->length = f->buflen;
        b->m.offset = idx * f->buflen;
        b->field = V4L2_FIELD_NONE;
        b->sequence = f->seq;
        b->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_DONE;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        b->timestamp.tv_sec = ts.tv_sec;
        b->timestamp.tv_usec = ts.tv_nsec / 1000;
        f->seq++;
        cam.delivered++;
        if (cam.stall_after > 0 && !cam.stalled_once && cam.delivered >= cam.stall_after) {
            cam.stalled_once = 1;
            f->stall_until = now_s() + cam.stall_s;
            f->started = f->stall_until - (double)f->seq / f->fps;
            TRACE("stalling for %.1f s", cam.stall_s);
        }
        if (cam.unplug_after > 0 && cam.delivered >= cam.unplug_after) {
            cam.unplugged = 1;
            cam.unplugged_at = now_s();
            TRACE("unplugged after %ld frames", cam.delivered);
        }
        return 0;
    }
    case VIDIOC_STREAMON:
        if (!f->nbufs) return fail(EINVAL);
        f->streaming = 1;
        f->started = now_s();
        f->seq = 0;
        return 0;
    case VIDIOC_STREAMOFF:
        f->streaming = 0;
        memset(f->queued, 0, sizeof f->queued);
        return 0;
    case VIDIOC_G_INPUT:
        *(int *)arg = 0;
        return 0;
    default:
        /* No controls, no other inputs: what a driver says about what it does not have. */
        return fail(req == VIDIOC_QUERYCTRL || req == VIDIOC_QUERY_EXT_CTRL || req == VIDIOC_ENUMINPUT ? EINVAL
                                                                                                     : ENOTTY);
    }
}

static struct fake *fake_of(int fd) {
    return fd >= 0 && fd < 1024 ? fakes[fd] : NULL;
}

/* ---- opening ---- */
static int device_node(const char *path) {
    char want[64];
    snprintf(want, sizeof want, "/dev/video%d", cam.index);
    return path && !strcmp(path, want);
}

static int name_node(const char *path) {
    char want[96];
    snprintf(want, sizeof want, "/sys/class/video4linux/video%d/name", cam.index);
    return path && !strcmp(path, want);
}

static int open_fake(const char *path) {
    load_config();
    if (name_node(path)) {
        if (!present()) return fail(ENOENT);
        int fd = memfd_create("gp-testcam-name", MFD_CLOEXEC);
        dprintf(fd, "%s\n", cam.name);
        lseek(fd, 0, SEEK_SET);
        return fd;
    }
    pthread_mutex_lock(&lock);
    int result;
    if (!present()) {
        TRACE("open %s: gone", path);
        result = fail(ENOENT);
    } else if (cam.busy_opens > 0) {
        cam.busy_opens--;
        TRACE("open %s: busy", path);
        result = fail(EBUSY);
    } else {
        int fd = memfd_create("gp-testcam", MFD_CLOEXEC);
        if (fd < 0 || fd >= 1024) {
            result = -1;
        } else {
            struct fake *f = calloc(1, sizeof *f);
            f->fd = fd;
            f->fps = nearest_fps(30);
            adjust(f, cam.sizes[0].w, cam.sizes[0].h, format_at(0));
            fakes[fd] = f;
            TRACE("open %s -> fd %d", path, fd);
            result = fd;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

static int is_ours(const char *path) {
    load_config();
    return device_node(path) || name_node(path);
}

int open(const char *path, int flags, ...) {
    resolve();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (is_ours(path)) return open_fake(path);
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    resolve();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (is_ours(path)) return open_fake(path);
    return real_open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    resolve();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (is_ours(path)) return open_fake(path);
    return real_openat(dirfd, path, flags, mode);
}

int close(int fd) {
    resolve();
    struct fake *f = fake_of(fd);
    if (f) {
        pthread_mutex_lock(&lock);
        TRACE("close fd %d", fd);
        release_buffers(f);
        fakes[fd] = NULL;
        free(f);
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

/* ---- ioctl, as `v4l` makes it (syscall) and as C programs make it (ioctl) ---- */
long syscall(long number, ...) {
    resolve();
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_ioctl) {
        struct fake *f = fake_of((int)a[0]);
        if (f) {
            pthread_mutex_lock(&lock);
            int r = handle_ioctl(f, (unsigned long)a[1], (void *)a[2]);
            int e = errno;
            pthread_mutex_unlock(&lock);
            errno = e;
            return r;
        }
    }
    return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int ioctl(int fd, unsigned long req, ...) {
    resolve();
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    struct fake *f = fake_of(fd);
    if (f) {
        pthread_mutex_lock(&lock);
        int r = handle_ioctl(f, req, arg);
        int e = errno;
        pthread_mutex_unlock(&lock);
        errno = e;
        return r;
    }
    return real_ioctl(fd, req, arg);
}

/* ---- poll: readable when a frame is due; an error when unplugged ---- */
int poll(struct pollfd *fds, nfds_t n, int timeout) {
    resolve();
    if (n != 1 || !fake_of(fds[0].fd)) return real_poll(fds, n, timeout);
    struct fake *f = fake_of(fds[0].fd);
    double deadline = timeout < 0 ? -1 : now_s() + timeout / 1000.0;
    for (;;) {
        pthread_mutex_lock(&lock);
        int here = present();
        double wait = f->streaming ? wait_for_frame(f) : 0.05;
        pthread_mutex_unlock(&lock);
        if (!here) {
            fds[0].revents = POLLERR | POLLHUP;
            TRACE("poll: device gone");
            return 1;
        }
        if (f->streaming && wait <= 0) {
            fds[0].revents = POLLIN | POLLRDNORM;
            return 1;
        }
        double left = deadline < 0 ? 0.05 : deadline - now_s();
        if (deadline >= 0 && left <= 0) {
            fds[0].revents = 0;
            return 0;
        }
        /* Sleep in short steps so an unplug is noticed while waiting. */
        double step = wait < 0.05 ? wait : 0.05;
        if (deadline >= 0 && left < step) step = left;
        struct timespec ts = {(time_t)step, (long)((step - (time_t)step) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* ---- listing /dev ---- */
DIR *opendir(const char *path) {
    resolve();
    DIR *d = real_opendir(path);
    if (d && (!strcmp(path, "/dev") || !strcmp(path, "/dev/"))) {
        pthread_mutex_lock(&lock);
        for (int i = 0; i < 16; i++)
            if (!dev_dirs[i]) { dev_dirs[i] = d; dev_dir_state[i] = 0; break; }
        pthread_mutex_unlock(&lock);
    }
    return d;
}

static int dev_dir_slot(DIR *d) {
    for (int i = 0; i < 16; i++)
        if (dev_dirs[i] == d) return i;
    return -1;
}

/* After the real entries of /dev: video<N>, once per listing, while the camera is plugged in. */
static int fake_entry_due(DIR *d) {
    pthread_mutex_lock(&lock);
    int slot = dev_dir_slot(d), due = 0;
    if (slot >= 0 && !dev_dir_state[slot]) {
        dev_dir_state[slot] = 1;
        load_config();
        due = present();
    }
    pthread_mutex_unlock(&lock);
    return due;
}

/* The fake device's entry, in a dirent or a dirent64 (the same field names). */
#define FILL_FAKE_ENTRY(ent)                                                        \
    do {                                                                            \
        memset(&(ent), 0, sizeof(ent));                                             \
        (ent).d_ino = 999999;                                                       \
        (ent).d_type = DT_CHR;                                                      \
        (ent).d_reclen = sizeof(ent);                                               \
        snprintf((ent).d_name, sizeof((ent).d_name), "video%d", cam.index);         \
        TRACE("listing /dev/video%d", cam.index);                                   \
    } while (0)

struct dirent64 *readdir64(DIR *d) {
    resolve();
    struct dirent64 *e = real_readdir64(d);
    if (e || !fake_entry_due(d)) return e;
    FILL_FAKE_ENTRY(fake_dirent64);
    return &fake_dirent64;
}

struct dirent *readdir(DIR *d) {
    resolve();
    struct dirent *e = real_readdir(d);
    if (e || !fake_entry_due(d)) return e;
    FILL_FAKE_ENTRY(fake_dirent);
    return &fake_dirent;
}

int closedir(DIR *d) {
    resolve();
    pthread_mutex_lock(&lock);
    int slot = dev_dir_slot(d);
    if (slot >= 0) dev_dirs[slot] = NULL;
    pthread_mutex_unlock(&lock);
    return real_closedir(d);
}
