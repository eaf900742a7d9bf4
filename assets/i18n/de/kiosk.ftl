# Gallery Painter: Deutsch.

language-name = Deutsch

## Eigene Einstellungen
access-contrast = Hoher Kontrast
access-voice = Vorlesen

## Attract
attract-invitation = Treten Sie näher und halten Sie still – Sie werden gemalt
attract-hint = oder berühren Sie den Bildschirm, um ein Gemälde zu wählen
attract-sorry = Entschuldigung – dieses Bild konnte nicht gemalt werden
attract-sorry-hint = Berühren Sie den Bildschirm, um ein anderes Gemälde zu wählen
artwork-unusable = Dieses Kunstwerk kann gerade nicht gezeigt werden – bitte wählen Sie ein anderes
picker-hint = Treten Sie vor die Kamera – oder wählen Sie auf dem Bildschirm ein Gemälde

## Noticed
noticed-hold-still = Bitte stillhalten …
noticed-about-to-be-painted = gleich werden Sie gemalt
noticed-touch-to-be-painted = Berühren, um gemalt zu werden

## Countdown und Malen
countdown-photo-taken = Ihr Foto wird aufgenommen
countdown-seconds = { $seconds }
painting-photo-kept = Ihr Foto wird gemalt – fertige Bilder werden aufbewahrt
painting-photo-deleted = Ihr Foto wird gemalt – es wird gelöscht, wenn Sie gehen
progress-sketching = Die Komposition wird skizziert …
progress-details = Die Details werden gemalt …
progress-final-touches = Der letzte Schliff …
progress-finished = Fertig

## Reveal
reveal-your-photo = Ihr Foto
reveal-paint-again = Noch einmal malen
share-scan = Scannen und Ihr Bild mitnehmen

## Museumsschild
label-title-artist-year = { $title } · { $artist }, { $year }
label-title-artist = { $title } · { $artist }

## Störungen und Schließzeit
banner-painter-stopped = Der Maler pausiert – das Personal ist informiert
banner-camera-lost = Die Kamera verbindet sich neu …
banner-no-camera = Keine Kamera angeschlossen – das Personal ist informiert
banner-camera-stalled = Warten auf die Kamera …
banner-painter-waiting = Einen Moment – wir warten auf einen freien Maler …
closed-resting = Der Maler ruht sich aus. Bis bald, zu den Öffnungszeiten.

## Die Seite auf dem Telefon
share-page-title = Ihr Gemälde
share-page-heading = Ihr Bild im Stil von { $artwork }
share-page-download = Bild herunterladen
share-page-making-of = So entstand Ihr Bild
share-page-download-making-of = Das Entstehen herunterladen
share-page-deleted-at = Dieses Bild wird um { $time } gelöscht, in { $minutes ->
        [one] einer Minute
       *[other] { $minutes } Minuten
    }. Speichern Sie es jetzt.
share-page-nothing-else = Sonst wird nichts über Sie gespeichert.
share-page-gone-title = Gelöscht
share-page-gone = Dieses Bild wurde wie versprochen gelöscht. Kommen Sie wieder und lassen Sie sich neu malen!
share-page-not-found = Hier gibt es kein Bild. Prüfen Sie den Link oder scannen Sie den Code erneut.
share-page-slow-down = Zu viele Versuche. Bitte warten Sie eine Minute.

## Die gesprochene Führung (kiosk.voice)
voice-attract = Treten Sie näher und halten Sie still, dann werden Sie gemalt. Oder berühren Sie den Bildschirm, um ein Gemälde zu wählen.
voice-noticed-hold-still = Bitte still halten. Gleich werden Sie gemalt.
voice-noticed-touch = Berühren Sie die Taste, Berühren, um gemalt zu werden. Dann wird Ihr Foto aufgenommen.
voice-countdown = { $seconds }
voice-painting = Ihr Foto ist aufgenommen. Sehen Sie zu, wie es gemalt wird.
voice-reveal = Ihr Bild ist fertig, im Stil von { $title }.
voice-take-home = Scannen Sie den Code mit Ihrem Telefon, um Ihr Bild mitzunehmen.
