# Gallery Painter : français.

language-name = Français

## Réglages du visiteur
access-contrast = Contraste élevé
access-voice = Lecture à voix haute

## Accueil
attract-invitation = Approchez et ne bougez plus – on peint votre portrait
attract-hint = ou touchez l’écran pour choisir un tableau
attract-sorry = Toutes nos excuses – ce tableau n’a pas pu être peint
attract-sorry-hint = Touchez l’écran pour choisir un autre tableau
artwork-unusable = Cette œuvre ne peut pas être montrée pour le moment – choisissez-en une autre
picker-hint = Placez-vous devant la caméra – ou touchez l’écran pour choisir un tableau

## Visiteur repéré
noticed-hold-still = Ne bougez plus…
noticed-about-to-be-painted = votre portrait va être peint
noticed-touch-to-be-painted = Touchez ici pour votre portrait

## Compte à rebours et peinture
countdown-photo-taken = Votre photo est en cours
countdown-seconds = { $seconds }
painting-photo-kept = Votre photo est peinte – les tableaux terminés sont conservés
painting-photo-deleted = Votre photo est peinte – elle sera effacée à votre départ
progress-sketching = Esquisse de la composition…
progress-details = Peinture des détails…
progress-final-touches = Dernières retouches…
progress-finished = Terminé

## Révélation
reveal-your-photo = Votre photo
reveal-paint-again = Me repeindre
share-scan = Scannez pour emporter votre tableau

## Le cartel de l’œuvre
label-title-artist-year = { $title } · { $artist }, { $year }
label-title-artist = { $title } · { $artist }

## Incidents et fermeture
banner-painter-stopped = Le peintre s’est arrêté – le personnel est prévenu
banner-camera-lost = La caméra se reconnecte…
banner-no-camera = Aucune caméra branchée – le personnel est prévenu
banner-camera-stalled = En attente de la caméra…
banner-painter-waiting = Un instant – nous attendons un peintre libre…
closed-resting = Le peintre se repose. À bientôt, aux heures d’ouverture.

## La page sur le téléphone
share-page-title = Votre tableau
share-page-heading = Votre tableau, à la manière de { $artwork }
share-page-download = Télécharger le tableau
share-page-making-of = Comment votre tableau a été peint
share-page-download-making-of = Télécharger la genèse
share-page-deleted-at = Cette image sera effacée à { $time }, dans { $minutes ->
        [one] une minute
       *[other] { $minutes } minutes
    }. Enregistrez-la maintenant.
share-page-nothing-else = Rien d’autre n’est conservé à votre sujet.
share-page-gone-title = Effacé
share-page-gone = Ce tableau a été effacé, comme promis. Revenez pour un nouveau portrait !
share-page-not-found = Il n’y a pas de tableau ici. Vérifiez le lien ou scannez à nouveau le code.
share-page-slow-down = Trop d’essais. Merci de patienter une minute.

## Le parcours parlé (kiosk.voice)
voice-attract = Approchez et ne bougez plus : votre portrait va être peint. Ou touchez l'écran pour choisir un tableau.
voice-noticed-hold-still = Ne bougez plus. Votre portrait va être peint.
voice-noticed-touch = Touchez le bouton, Touchez ici pour votre portrait. Votre photo sera prise.
voice-countdown = { $seconds }
voice-painting = Votre photo est prise. Regardez-la se peindre.
voice-reveal = Votre tableau est terminé, dans le style de { $title }.
voice-take-home = Scannez le code avec votre téléphone pour emporter votre tableau.
