"""The local web app of ``choreogen serve``: HTTP API (:mod:`.app`), jobs (:mod:`.jobs`), static page."""
