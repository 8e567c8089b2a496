"""The extractors, one per field family: segments of a letter, letters in a file, header fields,
money, roles of amounts, response actions, and whether a text is a reply letter at all."""
