# Gallery Painter: español.

language-name = Español

## Ajustes del visitante
access-contrast = Alto contraste
access-voice = Leer en voz alta

## Bienvenida
attract-invitation = Acérquese y no se mueva: vamos a pintar su retrato
attract-hint = o toque la pantalla para elegir un cuadro
attract-sorry = Lo sentimos: no se pudo pintar este cuadro
attract-sorry-hint = Toque la pantalla para elegir otro cuadro
artwork-unusable = Esta obra no se puede mostrar ahora – elija otra, por favor
picker-hint = Póngase delante de la cámara o toque la pantalla para elegir un cuadro

## Visitante detectado
noticed-hold-still = No se mueva…
noticed-about-to-be-painted = vamos a pintar su retrato
noticed-touch-to-be-painted = Toque aquí para su retrato

## Cuenta atrás y pintura
countdown-photo-taken = Le estamos haciendo la foto
countdown-seconds = { $seconds }
painting-photo-kept = Pintando su foto: los cuadros terminados se guardan
painting-photo-deleted = Pintando su foto: se borra cuando se vaya
progress-sketching = Esbozando la composición…
progress-details = Pintando los detalles…
progress-final-touches = Dando los últimos retoques…
progress-finished = Terminado

## Resultado
reveal-your-photo = Su foto
reveal-paint-again = Píntame otra vez
share-scan = Escanee para llevarse su cuadro

## La cartela de la obra
label-title-artist-year = { $title } · { $artist }, { $year }
label-title-artist = { $title } · { $artist }

## Incidencias y cierre
banner-painter-stopped = El pintor se ha detenido: el personal está avisado
banner-camera-lost = La cámara se está reconectando…
banner-no-camera = No hay cámara conectada: el personal está avisado
banner-camera-stalled = Esperando a la cámara…
banner-painter-waiting = Un momento: esperando a un pintor libre…
closed-resting = El pintor está descansando. Le esperamos en horario de apertura.

## La página en el móvil
share-page-title = Su cuadro
share-page-heading = Su cuadro, al estilo de { $artwork }
share-page-download = Descargar el cuadro
share-page-making-of = Así se pintó su cuadro
share-page-download-making-of = Descargar cómo se hizo
share-page-deleted-at = Esta imagen se borrará a las { $time }, dentro de { $minutes ->
        [one] un minuto
       *[other] { $minutes } minutos
    }. Guárdela ahora.
share-page-nothing-else = No se guarda nada más sobre usted.
share-page-gone-title = Borrado
share-page-gone = Este cuadro se ha borrado, como prometimos. ¡Vuelva cuando quiera para un nuevo retrato!
share-page-not-found = Aquí no hay ningún cuadro. Revise el enlace o escanee el código de nuevo.
share-page-slow-down = Demasiados intentos. Espere un minuto, por favor.

## El recorrido hablado (kiosk.voice)
voice-attract = Acérquese y no se mueva: vamos a pintar su retrato. O toque la pantalla para elegir un cuadro.
voice-noticed-hold-still = No se mueva. Vamos a pintar su retrato.
voice-noticed-touch = Toque el botón, Toque aquí para su retrato. Se tomará su foto.
voice-countdown = { $seconds }
voice-painting = Su foto ya está tomada. Mire cómo se pinta.
voice-reveal = Su cuadro está terminado, al estilo de { $title }.
voice-take-home = Escanee el código con su teléfono para llevarse su cuadro.
