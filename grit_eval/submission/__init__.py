"""Building GRIT submissions (official layout, params.json, zip) from stored predictions."""
