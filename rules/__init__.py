"""The built-in rule files (one YAML file per field family) and the search user dictionary.

Shipped inside the package as ``replyparse.builtin_rules`` and found through ``importlib.resources``.
"""
