"""Input and output at the edges of the pipeline.

- `readers.py`: input files to `Document`s and `Skip`s, a reader registered per suffix;
- `jsonl_table.py`: a JSONL file of plain documents read whole by Arrow's JSON parser (the same
  documents as the line reader, which reads every other file);
- `stores.py`: on-disk stores in the staging directory (staged articles, match keys,
  signatures) and the row-group Parquet writer;
- `tables.py`: the output schemas and the writer of the three tables;
- `utf8.py`: text columns cut from the staged texts' UTF-8 bytes (segment and cleaned texts);
- `staging.py`: the staging directory and the atomic publish.
"""
