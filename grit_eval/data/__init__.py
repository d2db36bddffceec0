"""Dataset readers: GRIT files into ``grit_eval.types.Sample`` (see ``grit_reader``)."""
