"""hubkit.peft.train.labelled_pairs: classify trains on an IMDB folder or a CSV the user has."""

from __future__ import annotations

from hubkit.peft.train import ClassifyConfig, labelled_pairs


def _imdb(root, n):
    for split in ("train", "test"):
        for name in ("pos", "neg"):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / f"{i}_7.txt").write_text(f"{name} review {i}<br />end",
                                                   encoding="utf-8")


def test_imdb_folder_is_shuffled_capped_and_split(tmp_path):
    _imdb(tmp_path, 30)
    train, test = labelled_pairs(ClassifyConfig(data=str(tmp_path), n_examples=40))
    assert len(train) == 30 and len(test) == 10
    assert {label for _, label in train} == {0, 1}  # not all negatives first
    assert all(("pos" in t) == (label == 1) and "<br />" not in t for t, label in train + test)


def test_csv_file_and_the_built_in_default(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\n" + "".join(f"great {i},positive\nawful {i},0\n"
                                            for i in range(10)), encoding="utf-8")
    train, test = labelled_pairs(ClassifyConfig(data=str(path), n_examples=100))
    assert len(train) + len(test) == 20
    assert len(labelled_pairs(ClassifyConfig(n_examples=40))[0]) == 30
