"""hubkit.rnn.sentiment: generated reviews, and the LSTM beating bag-of-words on negation."""

from __future__ import annotations

import json

from hubkit.rnn import sentiment, train

SMALL = sentiment.SentimentConfig(train_size=500, test_size=200, steps=150, batch_size=32,
                                  hidden=16)


def test_generated_labels_follow_the_adjective_flipped_by_not():
    for words, label in sentiment.make_reviews(300, seed=1):
        positive = any(w in sentiment.POSITIVE for w in words)
        assert label == int(positive != ("not" in words))


def test_about_a_quarter_of_the_reviews_are_negated():
    reviews = sentiment.make_reviews(2000, seed=2)
    share = sum("not" in ws for ws, _ in reviews) / len(reviews)
    assert 0.2 < share < 0.3


def test_lstm_handles_negation_where_bag_of_words_cannot():
    out = sentiment.compare(SMALL)
    bow, lstm = out["bag_of_words"], out["lstm"]
    assert bow["plain_accuracy"] > 0.9 and bow["negated_accuracy"] < 0.3
    assert lstm["negated_accuracy"] > 0.9 and lstm["test_accuracy"] > 0.95


def test_sentiment_command_writes_a_summary(tmp_path, capsys):
    train.main(["sentiment", "--train-size", "200", "--test-size", "50", "--steps", "5",
                "--quiet", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary) == {"config", "bag_of_words", "lstm"}
    assert "negated" in capsys.readouterr().out
