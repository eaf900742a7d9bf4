# Gallery Painter, the texts a visitor reads: English (the reference language).
# Every other language must define the same messages with the same { $variables }.
# Keep them short: they are read standing, from two metres.

language-name = English

## The visitor's own settings, beside the languages
access-contrast = High contrast
access-voice = Read aloud

## Attract: nobody is painting yet
attract-invitation = Step up and hold still – you will be painted
attract-hint = or touch the screen to choose a painting
attract-sorry = Sorry – this painting could not be made
attract-sorry-hint = Touch the screen to choose another painting
artwork-unusable = This artwork cannot be shown just now – please choose another
# Without the visitor journey (a rotating gallery only)
picker-hint = Step in front of the camera – touch the screen to choose a painting

## Noticed: someone is in front of the camera
noticed-hold-still = Hold still…
noticed-about-to-be-painted = you are about to be painted
noticed-touch-to-be-painted = Touch to be painted

## Countdown and painting
countdown-photo-taken = Your photo is being taken
countdown-seconds = { $seconds }
painting-photo-kept = Painting your photo – finished paintings are kept
painting-photo-deleted = Painting your photo – it is deleted when you leave
progress-sketching = Sketching the composition…
progress-details = Painting the details…
progress-final-touches = Adding the final touches…
progress-finished = Finished

## Reveal
reveal-your-photo = Your photo
reveal-paint-again = Paint me again
share-scan = Scan to take your painting home

## The museum label of the artwork in use
label-title-artist-year = { $title } · { $artist }, { $year }
label-title-artist = { $title } · { $artist }

## Trouble and closing time
banner-painter-stopped = The painter has stopped – staff have been told
banner-camera-lost = The camera is reconnecting…
banner-no-camera = No camera connected – staff have been told
banner-camera-stalled = Waiting for the camera…
banner-painter-waiting = One moment – waiting for a free painter…
closed-resting = The painter is resting. See you during opening hours.

## The take-home page on the visitor's phone
share-page-title = Your painting
share-page-heading = Your painting, in the style of { $artwork }
share-page-download = Download the painting
share-page-making-of = How your painting was made
share-page-download-making-of = Download the making-of
share-page-deleted-at = This picture will be deleted at { $time }, in { $minutes ->
        [one] one minute
       *[other] { $minutes } minutes
    }. Save it now.
share-page-nothing-else = Nothing else about you is kept.
share-page-gone-title = Deleted
share-page-gone = This painting has been deleted, as promised. Come back and be painted again!
share-page-not-found = There is no painting here. Check the link, or scan the code again.
share-page-slow-down = Too many tries. Please wait a minute.

## The spoken journey (kiosk.voice): each line is said, not shown; keep them plain
voice-attract = Step up and hold still, and you will be painted. Or touch the screen to choose a painting.
voice-noticed-hold-still = Hold still. You are about to be painted.
voice-noticed-touch = Touch the button, Touch to be painted, and your photo will be taken.
voice-countdown = { $seconds }
voice-painting = Your photo has been taken. Watch it being painted.
voice-reveal = Your painting is finished, in the style of { $title }.
voice-take-home = Scan the code with your phone to take your painting home.
