"""Refresh the README's gallery from a tour: one figure per family, copied from the tour's run folder.

    make gallery                                  # runs the quick tour, then this script on it
    python docs/gallery.py runs/tour-20261130-1500 # or on a tour you already ran

The figures are the tour's own PNGs (each toy's seed, quick mode), so the gallery shows what a
learner's `make demo` draws. A figure whose toy did not run (cora without its data) is kept as
it was.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

#: family -> (toy, figure): the one figure that shows the family best.
GALLERY = {
    "the MLP": ("xor", "xor.png"),
    "optimisers": ("optimizers", "optimizers.png"),
    "recurrent networks": ("adding", "adding.png"),
    "convolutional networks": ("cnn-digits", "cnn_digits_feature_maps.png"),
    "self-organizing maps": ("som", "som_digits.png"),
    "semi-supervised learning": ("karate", "karate.png"),
    "GRNN": ("grnn", "grnn.png"),
    "graph networks": ("gcn-karate", "embedding.png"),
    "RBM": ("rbm", "rbm_filters.png"),
    "GAN": ("gan", "gan_digits.png"),
    "the Transformer": ("sort", "sort_attention.png"),
}
HERE = Path(__file__).resolve().parent / "gallery"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    tour = Path(argv[0])
    HERE.mkdir(exist_ok=True)
    copied = 0
    for family, (toy, figure) in GALLERY.items():
        source = tour / toy / figure
        if source.is_file():
            shutil.copyfile(source, HERE / f"{toy}.png")
            copied += 1
        else:
            print(f"{family}: no {source}; the gallery keeps its old figure", file=sys.stderr)
    print(f"{copied} of {len(GALLERY)} figures copied into {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
