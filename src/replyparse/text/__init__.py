"""Text normal forms: Unicode and script normalisation, Chinese numerals, dates."""
