"""`read_inputs`: documents and skip records from .txt, .jsonl and .parquet inputs."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedupe.config import Config
from dedupe.model import Document, Skip
from dedupe.io.readers import InputError, read_inputs

CAPTION = ("Attorney General Jeff Sessions said Thursday morning that while he twice met with "
           "Russia's ambassador during the campaign, he did not discuss the election.")


def read(root: Path, config: Config | None = None) -> list[Document | Skip]:
    return list(read_inputs(root, config or Config()))


def only(items: list[Document | Skip]) -> Document | Skip:
    assert len(items) == 1, items
    return items[0]


def write_jsonl(path: Path, lines: list[object]) -> None:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
                    encoding="utf-8")


# --- directory walking and .txt files -------------------------------------------------------

def test_nested_folders_are_read_in_sorted_relative_path_order(tmp_path):
    for rel in ["zeta/b.txt", "alpha/nested/deep.txt", "alpha/a.txt", "mid.txt", "alpha/Z.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"Title of {rel}\nbody\n", encoding="utf-8")
    items = read(tmp_path)
    ids = [d.doc_id for d in items]
    assert ids == ["alpha/Z.txt", "alpha/a.txt", "alpha/nested/deep.txt", "mid.txt", "zeta/b.txt"]
    assert all(isinstance(d, Document) and d.source == d.doc_id for d in items)
    assert read(tmp_path) == items  # deterministic


def test_txt_document_fields(tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "sessions.txt").write_text(
        "\n  \n  Sessions met Russian envoy twice  \n\n" + CAPTION + "\n", encoding="utf-8")
    doc = only(read(tmp_path))
    assert isinstance(doc, Document)
    assert doc.doc_id == "news/sessions.txt"
    assert doc.source == "news/sessions.txt"
    assert doc.title == "Sessions met Russian envoy twice"
    assert doc.text == "\n  \n  Sessions met Russian envoy twice  \n\n" + CAPTION + "\n"


def test_bom_removed_and_crlf_becomes_lf(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfHeadline\r\nLine two\r\nOld mac\rend")
    doc = only(read(tmp_path))
    assert doc.text == "Headline\nLine two\nOld mac\nend"
    assert doc.title == "Headline"


def test_txt_gz_is_read(tmp_path):
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress("Headline\nBody text\n".encode()))
    doc = only(read(tmp_path))
    assert isinstance(doc, Document)
    assert doc.doc_id == "a.txt.gz" and doc.text == "Headline\nBody text\n"


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b" \r\n\t\n   ", "empty file"),
    (b"Headline\n\x00\x01\x02binary", "binary file (contains NUL bytes)"),
])
def test_unreadable_txt_files_are_skipped(tmp_path, content, reason):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_bytes(content)
    assert only(read(tmp_path)) == Skip("sub/x.txt", reason)


def test_invalid_utf8_skip_names_line(tmp_path):
    data = b"Headline\nsecond line\nLatin-1 caf\xe9 here\n"
    (tmp_path / "bad.txt").write_bytes(data)
    skip = only(read(tmp_path))
    assert isinstance(skip, Skip) and skip.source == "bad.txt"
    assert data.index(b"\xe9") == 32
    assert skip.reason == ("invalid UTF-8 at line 3 (byte offset 32): invalid continuation byte"
                           " (set the `encoding` option for files in another encoding)")


def test_invalid_utf8_after_bom_names_correct_line(tmp_path):
    # The BOM must not shift the reported line or offset.
    (tmp_path / "bad.txt").write_bytes(b"\xef\xbb\xbf\n\n\xff")
    skip = only(read(tmp_path))
    assert skip.reason.startswith("invalid UTF-8 at line 3 (byte offset 5)")


def test_corrupt_gz_is_a_skip_not_a_crash(tmp_path):
    good = gzip.compress(b"hello world\nmore text\n")
    (tmp_path / "a.txt.gz").write_bytes(good[:12] + b"\x00garbage" + good[20:])  # bad deflate data
    (tmp_path / "b.jsonl.gz").write_bytes(good[:12] + b"\x00garbage" + good[20:])
    (tmp_path / "c.txt.gz").write_bytes(good[:-6])  # truncated
    (tmp_path / "d.txt.gz").write_bytes(b"not gzip at all")
    items = read(tmp_path)
    assert [type(i) for i in items] == [Skip] * 4
    assert [i.source for i in items] == ["a.txt.gz", "b.jsonl.gz", "c.txt.gz", "d.txt.gz"]
    assert all(i.reason.startswith("cannot read file: ") for i in items)


def test_unsupported_extension_is_skipped(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "table.csv").write_text("id,text\n1,hello\n", encoding="utf-8")
    (tmp_path / "ok.txt").write_text("Fine\n", encoding="utf-8")
    items = read(tmp_path)
    assert items[0] == Skip("data/table.csv", "unsupported file type (expected .txt, .jsonl or .parquet)")
    assert isinstance(items[1], Document) and items[1].doc_id == "ok.txt"


def test_hidden_files_and_folders_are_ignored(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("hidden folder\n", encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00junk")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".notes.txt").write_text("hidden file\n", encoding="utf-8")
    (tmp_path / "sub" / "real.txt").write_text("Real\n", encoding="utf-8")
    assert [i.doc_id for i in read(tmp_path)] == ["sub/real.txt"]


def test_missing_directory_raises_naming_path(tmp_path):
    missing = tmp_path / "does-not-exist"
    with pytest.raises(InputError, match="not found") as info:
        read(missing)
    assert str(missing) in str(info.value)


def test_path_that_is_a_file_raises_naming_path(tmp_path):
    file = tmp_path / "a.txt"
    file.write_text("x\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a directory") as info:
        read(file)
    assert str(file) in str(info.value)


def test_empty_directory_raises_naming_path(tmp_path):
    (tmp_path / ".hidden").write_text("x", encoding="utf-8")  # hidden files do not count
    with pytest.raises(InputError, match="no input files") as info:
        read(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_read_inputs_accepts_str_path(tmp_path):
    (tmp_path / "a.txt").write_text("Title\n", encoding="utf-8")
    assert only(list(read_inputs(str(tmp_path), Config()))).doc_id == "a.txt"


# --- JSONL ----------------------------------------------------------------------------------

def test_jsonl_lines_become_documents_and_skips(tmp_path):
    (tmp_path / "feed").mkdir()
    write_jsonl(tmp_path / "feed" / "wire.jsonl", [
        {"text": CAPTION, "title": "Sessions met envoy"},        # 1
        "",                                                      # 2 blank: ignored
        '{"text": "broken',                                      # 3
        ["a", "list"],                                           # 4
        {"body": "x", "headline": "y"},                          # 5
        {"text": None},                                          # 6
        {"text": "First line\r\nSecond line", "title": "  "},    # 7 blank title -> first line
        "   ",                                                   # 8 whitespace: ignored
        {"text": "  \n "},                                       # 9
        {"text": 42},                                            # 10
    ])
    items = read(tmp_path)
    assert [i.source for i in items] == [f"feed/wire.jsonl:{n}" for n in (1, 3, 4, 5, 6, 7, 9, 10)]
    first = items[0]
    assert first == Document("feed/wire.jsonl:1", "feed/wire.jsonl:1", "Sessions met envoy", CAPTION)
    assert isinstance(items[1], Skip) and items[1].reason.startswith("invalid JSON at column")
    assert items[2] == Skip("feed/wire.jsonl:4", "line is a JSON list, not an object")
    assert items[3] == Skip("feed/wire.jsonl:5", "no field 'text' (fields: body, headline)")
    assert items[4] == Skip("feed/wire.jsonl:6", "text is null")
    assert items[5] == Document("feed/wire.jsonl:7", "feed/wire.jsonl:7", "First line",
                                "First line\nSecond line")
    assert items[6] == Skip("feed/wire.jsonl:9", "empty text")
    assert items[7] == Skip("feed/wire.jsonl:10", "text is a int, not a string")


def test_jsonl_empty_object_lists_no_fields(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{}])
    assert only(read(tmp_path)) == Skip("a.jsonl:1", "no field 'text' (fields: none)")


def test_jsonl_with_bom_and_crlf(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(
        b'\xef\xbb\xbf{"text": "one"}\r\n{"text": "two"}\r\n')
    items = read(tmp_path)
    assert [(d.source, d.text) for d in items] == [("a.jsonl:1", "one"), ("a.jsonl:2", "two")]


def test_jsonl_id_field_and_duplicate_ids(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [
        {"id": "ap-1", "text": "Story one"},
        {"id": 7, "text": "Story seven"},
        {"text": "no id here"},
    ])
    write_jsonl(tmp_path / "b.jsonl", [
        {"id": "ap-1", "text": "Story one again"},
        {"id": "7", "text": "Seven as a string"},
        {"id": "ap-2", "text": "Story two"},
    ])
    items = read(tmp_path, Config(id_field="id"))
    assert items[0] == Document("ap-1", "a.jsonl:1", "Story one", "Story one")
    assert items[1] == Document("7", "a.jsonl:2", "Story seven", "Story seven")
    assert items[2] == Skip("a.jsonl:3", "no id field 'id'")
    assert items[3] == Skip("b.jsonl:1", "duplicate document id 'ap-1' (first used by a.jsonl:1)")
    assert items[4] == Skip("b.jsonl:2", "duplicate document id '7' (first used by a.jsonl:2)")
    assert items[5] == Document("ap-2", "b.jsonl:3", "Story two", "Story two")


def test_jsonl_custom_text_and_title_fields(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"body": "Line one\nLine two", "headline": "The Headline",
                                        "text": "ignored"}])
    config = Config(text_field="body", title_field="headline")
    assert only(read(tmp_path, config)) == Document("a.jsonl:1", "a.jsonl:1", "The Headline",
                                                     "Line one\nLine two")
    # without a title field the first non-empty line is the title
    doc = only(read(tmp_path, Config(text_field="body", title_field=None)))
    assert doc.title == "Line one"


def test_jsonl_gz_and_ndjson(tmp_path):
    payload = (json.dumps({"text": "gz story"}) + "\n\n" + json.dumps({"text": "second"}) + "\n").encode()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(payload))
    write_jsonl(tmp_path / "b.ndjson", [{"text": "nd story"}])
    items = read(tmp_path)
    assert [(d.doc_id, d.text) for d in items] == [
        ("a.jsonl.gz:1", "gz story"), ("a.jsonl.gz:3", "second"), ("b.ndjson:1", "nd story")]


def test_jsonl_invalid_utf8_line_is_skipped_others_kept(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n{"text": "also ok"}\n')
    items = read(tmp_path)
    assert [type(i) for i in items] == [Document, Skip, Document]
    assert items[1].source == "a.jsonl:2" and items[1].reason.startswith("invalid UTF-8")


# --- Parquet --------------------------------------------------------------------------------

def test_parquet_rows_become_documents(tmp_path):
    (tmp_path / "pq").mkdir()
    table = pa.table({"text": ["Row zero text\nmore", None, CAPTION, "   "],
                      "title": ["Zero", "One", None, "Three"]})
    pq.write_table(table, tmp_path / "pq" / "arts.parquet")
    items = read(tmp_path)
    assert items[0] == Document("pq/arts.parquet:0", "pq/arts.parquet:0", "Zero", "Row zero text\nmore")
    assert items[1] == Skip("pq/arts.parquet:1", "text is null")
    assert items[2] == Document("pq/arts.parquet:2", "pq/arts.parquet:2", CAPTION, CAPTION)
    assert items[3] == Skip("pq/arts.parquet:3", "empty text")
    assert len(items) == 4


def test_parquet_without_text_column_is_skipped_listing_columns(tmp_path):
    pq.write_table(pa.table({"body": ["x"], "headline": ["y"]}), tmp_path / "a.parquet")
    assert only(read(tmp_path)) == Skip("a.parquet", "no column 'text' (columns: body, headline)")


def test_corrupt_parquet_is_skipped(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(random.Random(0).randbytes(2048))
    (tmp_path / "empty.parquet").write_bytes(b"")
    items = read(tmp_path)
    assert [i.source for i in items] == ["bad.parquet", "empty.parquet"]
    assert all(isinstance(i, Skip) and i.reason.startswith("not a readable Parquet file") for i in items)


def test_parquet_custom_text_and_id_fields(tmp_path):
    table = pa.table({"id": [10, 11, None], "body": ["Ten", "Eleven", "Twelve"]})
    pq.write_table(table, tmp_path / "a.parquet")
    items = read(tmp_path, Config(text_field="body", id_field="id"))
    assert items[0] == Document("10", "a.parquet:0", "Ten", "Ten")
    assert items[1] == Document("11", "a.parquet:1", "Eleven", "Eleven")
    assert items[2] == Skip("a.parquet:2", "id column 'id' is null")
    # the default text column is absent here
    assert only(read(tmp_path)) == Skip("a.parquet", "no column 'text' (columns: id, body)")


def test_parquet_row_numbers_continue_across_batches(tmp_path):
    texts = [f"article number {i}" for i in range(5000)]  # > one 4096-row batch
    pq.write_table(pa.table({"text": texts}), tmp_path / "big.parquet", row_group_size=1000)
    items = read(tmp_path)
    assert len(items) == 5000
    assert items[4999] == Document("big.parquet:4999", "big.parquet:4999",
                                   "article number 4999", "article number 4999")


def test_mixed_inputs_in_one_tree(tmp_path):
    (tmp_path / "a.txt").write_text("Txt story\n", encoding="utf-8")
    write_jsonl(tmp_path / "b.jsonl", [{"text": "Jsonl story"}])
    pq.write_table(pa.table({"text": ["Parquet story"]}), tmp_path / "c.parquet")
    assert [(i.doc_id, i.text) for i in read(tmp_path)] == [
        ("a.txt", "Txt story\n"), ("b.jsonl:1", "Jsonl story"), ("c.parquet:0", "Parquet story")]


# --- A new input format is one reader registered by its suffix -------------------------------


@pytest.fixture
def csv_reader():
    """A toy `.csv` reader (a `text` column, optional `title`), registered for one test."""
    import csv
    import io as stdlib_io

    from dedupe.io.readers import decode, make_document, read_bytes, register_reader, unregister_reader

    @register_reader(".csv")
    def read_csv(path, rel, config):
        data = read_bytes(path, rel)
        text = data if isinstance(data, Skip) else decode(data, rel)
        if isinstance(text, Skip):
            yield text
            return
        rows = csv.DictReader(stdlib_io.StringIO(text))
        for row_number, row in enumerate(rows, start=1):
            yield make_document(f"{rel}:{row_number}", row.get(config.text_field), None, row.get("title"))

    yield read_csv
    unregister_reader(".csv")


def test_a_reader_registered_for_a_suffix_is_used_by_a_run(tmp_path, csv_reader):
    import dedupe

    root = tmp_path / "in"
    root.mkdir()
    caption = "A caption printed twice by the site"
    (root / "feed.csv").write_text(
        'title,text\nFirst,"Body of the first story.\n' + caption + "\n" + caption + '"\n'
        'Second,"Another story, told differently."\n', encoding="utf-8")
    (root / "notes.md").write_text("not an article")
    out = tmp_path / "out"
    report = dedupe.run(root, out)
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    assert [(d["doc_id"], d["title"]) for d in docs] == [("feed.csv:1", "First"), ("feed.csv:2", "Second")]
    assert docs[0]["text"] == "Body of the first story.\n" + caption
    assert report.skipped == [{"source": "notes.md",
                               "reason": "unsupported file type (expected .txt, .jsonl, .parquet or .csv)"}]


def test_an_unregistered_suffix_is_unsupported_again(tmp_path):
    (tmp_path / "feed.csv").write_text("text\nA story.\n")
    items = list(read_inputs(tmp_path, Config()))
    assert items == [Skip("feed.csv", "unsupported file type (expected .txt, .jsonl or .parquet)")]


# --- Every input accounted for: symlinked folders, special files, encodings, long titles ------


def test_a_symlinked_folder_is_read_once_and_a_loop_is_reported(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("Title A\nBody of a.\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")          # a second path to the same folder
    (tmp_path / "real" / "up").symlink_to(tmp_path)            # a loop back to the root
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "b.txt").write_text("Title B\nBody of b.\n")
    (tmp_path / "zlink").symlink_to(tmp_path / "shared")       # sorted after its target
    items = read(tmp_path)
    assert [(type(i).__name__, i.source) for i in items] == [
        ("Skip", "link"), ("Document", "real/a.txt"), ("Skip", "real/up"), ("Document", "shared/b.txt"),
        ("Skip", "zlink")]
    assert items[0].reason == "symlink to real, read under that path"
    assert items[2].reason == "symlink to ., read under that path"


def test_a_symlinked_folder_outside_the_input_is_followed_once(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.txt").write_text("Title\nBody.\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed").symlink_to(outside)
    (tmp_path / "in" / "mirror").symlink_to(outside)
    items = read(tmp_path / "in")
    assert [i.source for i in items] == ["feed/a.txt", "mirror"]
    assert items[1].reason == "symlink to a folder already read as feed"


def test_special_files_are_skipped_with_a_reason_not_read(tmp_path):
    import os

    (tmp_path / "a.txt").write_text("Title\nBody.\n")
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block forever
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    items = {i.source: i for i in read(tmp_path)}
    assert isinstance(items["a.txt"], Document)
    assert items["pipe.txt"] == Skip("pipe.txt", "not a regular file (FIFO, socket or device)")
    assert items["gone.txt"] == Skip("gone.txt", "broken symlink")


def test_the_encoding_option_reads_latin1_files(tmp_path):
    (tmp_path / "a.txt").write_bytes("Caf\xe9 society\nThe caf\xe9 reopened.\n".encode("latin-1"))
    skip = only(read(tmp_path))
    assert isinstance(skip, Skip) and "set the `encoding` option" in skip.reason
    doc = only(read(tmp_path, Config(encoding="latin-1")))
    assert doc.title == "Café society" and doc.text == "Café society\nThe café reopened.\n"
    (tmp_path / "b.jsonl").write_bytes(b'{"text": "Gr\xfc\xdfe"}\n')
    assert read(tmp_path, Config(encoding="latin-1"))[1].text == "Grüße"
    (tmp_path / "a.txt").unlink()
    assert read(tmp_path)[0].reason.startswith("invalid UTF-8 at byte 12 of the line")


def test_a_long_first_line_is_cut_into_a_title(tmp_path):
    line = " ".join(["word"] * 20_000)  # a 100 kB single-line file
    (tmp_path / "a.txt").write_text(line + "\n")
    doc = only(read(tmp_path))
    assert doc.text == line + "\n"
    assert len(doc.title) <= 300 and doc.title.endswith("word…") and line.startswith(doc.title[:-1])
    write_jsonl(tmp_path / "b.jsonl", [{"text": "Body.", "title": "x" * 1000}])
    assert read(tmp_path)[1].title == "x" * 299 + "…"


def test_the_output_folder_inside_the_input_is_not_read(tmp_path, caplog):
    (tmp_path / "a.txt").write_text("Title\nBody.\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "documents.parquet").write_bytes(b"PAR1")
    assert [i.source for i in read_inputs(tmp_path, Config(), exclude=tmp_path / "out")] == ["a.txt"]
    assert "lies inside the input: not read as input" in caplog.text


def test_jsonl_unpaired_surrogate_is_a_skip_not_a_crash(tmp_path):
    """JSON may escape half of a UTF-16 pair ("\\ud800"): Python decodes it to a string that no
    UTF-8 table can hold, which crashed the run while staging. It is a skip naming the field;
    a whole pair (an emoji) is one character and reads as usual."""
    (tmp_path / "a.jsonl").write_bytes(b'{"text": "lone \\ud800 half"}\n{"text": "emoji \\ud83d\\ude00 ok"}\n'
                                       b'{"text": "fine", "title": "bad \\uDC00"}\n')
    items = read(tmp_path)
    assert items[0] == Skip("a.jsonl:1", "field 'text' holds an unpaired surrogate (\\ud800 at character 5): "
                                         "not valid Unicode")
    assert items[1] == Document("a.jsonl:2", "a.jsonl:2", "emoji \U0001F600 ok", "emoji \U0001F600 ok")
    assert items[2] == Skip("a.jsonl:3", "field 'title' holds an unpaired surrogate (\\udc00 at character 4): "
                                         "not valid Unicode")
