"""An embedded full-text index of letter records: SQLite FTS5, a trigram index for fragments
and a jieba word index for one- and two-character queries.

Layout of the index file (one SQLite database):

- ``files``   one row per input file (or per source in a JSONL): path, content hash, status;
              re-indexing compares these to skip unchanged files and drop vanished ones.
- ``letters`` one row per reply letter: the structured fields as filterable columns, the
              normalised text (for snippets), the record as JSON and ``text_key``, the hash of
              the text without whitespace: copies of one letter (.txt and .pdf) share it and
              come back from a search as one hit listing all their sources.
- ``letter_actions`` (letter_id, category), for ``--action`` filters.
- ``tri``     FTS5 ``trigram`` table, contentless: title, proposal title, proposers, issuer, doc
              number, full text, each folded (``fold``). Any fragment of 3+ characters matches
              where it stands, whatever the word boundaries. rowid = letters.id.
- ``fts``     FTS5 table (unicode61) whose columns hold jieba search-mode tokens, space-separated,
              same columns. Used for queries of one or two characters (a trigram index cannot
              look them up) and when a fragment is not found as written (its words, ANDed).
- ``meta``    schema version, tokenizer signature (jieba version + user dictionary hash) and
              fold signature; when one changes the stale part is rebuilt by the next ``index``.

Chinese is cut with ``jieba.cut_for_search`` (search mode: a long word also yields its
sub-words, so 老旧小区 matches a query for 小区) using ``rules/jieba_userdict.txt`` on a private
``jieba.Tokenizer`` (the global jieba dictionary is left alone). jieba is imported only by
indexing: a query term of 3+ characters that no letter holds as written is cut into words with
the word index's own vocabulary (``Index._cut``), so ``search`` never waits for jieba's dictionary."""
