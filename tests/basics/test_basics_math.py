"""Parts 1.1-1.3 references against NumPy, scipy and scikit-learn."""

import numpy as np
import pytest

from hubkit.basics import linalg, naive_bayes, probability, recommender


def test_apply_map_rotates_and_eigen_axes_match_numpy():
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    assert np.allclose(linalg.apply_map(rot, np.array([[1.0, 0.0]])), [[0.0, 1.0]])
    a = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    vals, vecs = linalg.eigen_axes(a)
    assert np.all(np.diff(vals) < 0)
    assert np.allclose(a @ vecs, vecs * vals)
    lam, v = linalg.power_iteration(a, steps=300)
    assert lam == pytest.approx(vals[0]) and abs(v @ vecs[:, 0]) == pytest.approx(1.0)


def test_truncated_svd_error_is_the_dropped_singular_values():
    x = np.random.default_rng(0).standard_normal((9, 6))
    s = np.linalg.svd(x, compute_uv=False)
    for k in (1, 3, 6):
        err = np.linalg.norm(x - linalg.truncated_svd(x, k))
        assert err == pytest.approx(np.sqrt((s[k:] ** 2).sum()), abs=1e-9)
    errs = linalg.compression_errors(x, [1, 3, 6])
    assert np.all(np.diff(errs) < 0) and errs[-1] == pytest.approx(0.0, abs=1e-12)


def test_svd_compression_on_the_shipped_photo_improves_with_rank(tmp_path):
    pytest.importorskip("sklearn")
    img = linalg.sample_image()[::4, ::4]
    errs = linalg.compression_errors(img, [1, 5, 20, 50])
    assert np.all(np.diff(errs) < 0) and errs[3] < 0.1
    assert linalg.plot_compression(img, [1, 5, 20], tmp_path / "svd.png").stat().st_size > 0


@pytest.mark.parametrize(("name", "text"), [
    ("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n"),
    ("ratings.dat", "196::242::3::881250949\n186::302::3::891717742\n22::377::1::878887116\n"),
    ("ratings.csv", "userId,movieId,rating,timestamp\n196,242,3.0,881250949\n"
                    "186,302,3.0,891717742\n22,377,1.0,878887116\n"),
])
def test_movielens_loader_reads_all_three_layouts(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    r = recommender.load_movielens(tmp_path / name)
    assert (r.n_users, r.n_items) == (3, 3)
    assert r.user_ids[r.users].tolist() == [196, 186, 22]
    assert r.item_ids[r.items].tolist() == [242, 302, 377]
    assert r.values.tolist() == [3.0, 3.0, 1.0]


def test_movielens_loader_names_a_bad_line(tmp_path):
    (tmp_path / "u.data").write_text("1\t2\t3\t4\noops\n")
    with pytest.raises(ValueError, match="line 2"):
        recommender.load_movielens(tmp_path / "u.data")


def test_matrix_factorization_beats_the_mean_on_held_out_ratings(tmp_path):
    r = recommender.synthetic_ratings(120, 80, density=0.25, seed=1)
    # round trip through a MovieLens file, the loader's real input
    path = tmp_path / "u.data"
    path.write_text("".join(f"{u + 1}\t{i + 1}\t{int(v)}\t0\n"
                            for u, i, v in zip(r.users, r.items, r.values, strict=True)))
    train, test = recommender.load_movielens(path).split(0.2)
    mf = recommender.MatrixFactorization(train.n_users, train.n_items, k=3)
    mf.fit(train, epochs=15)
    baseline = float(np.sqrt(np.mean((test.values - train.values.mean()) ** 2)))
    assert mf.rmse(test) < 0.85 * baseline


def test_probability_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    x = np.array([0.3, -1.2, 2.0])
    assert np.allclose(probability.gaussian_logpdf(x, 0.5, 1.7), stats.norm.logpdf(x, 0.5, 1.7))
    assert np.allclose(probability.bernoulli_logpmf([0, 1], 0.3),
                       stats.bernoulli.logpmf([0, 1], 0.3))
    p, q = np.array([0.2, 0.0, 0.8]), np.array([0.3, 0.3, 0.4])
    assert probability.entropy(p) == pytest.approx(stats.entropy(p))
    assert probability.kl_divergence(p, q) == pytest.approx(stats.entropy(p, q))
    assert probability.cross_entropy(p, q) == pytest.approx(stats.entropy(p) + stats.entropy(p, q))


def test_sampling_frequencies_and_mle_recover_the_parameters():
    probs = [0.1, 0.2, 0.7]
    freq = probability.mle_categorical(probability.sample("categorical", {"probs": probs},
                                                          20000), 3)
    assert np.allclose(freq, probs, atol=0.02)
    x = probability.sample("gaussian", {"mu": 2.0, "sigma": 0.5}, 20000)
    mu, sigma = probability.mle_gaussian(x)
    assert mu == pytest.approx(2.0, abs=0.02) and sigma == pytest.approx(0.5, abs=0.02)
    ll = lambda m, s: probability.gaussian_logpdf(x, m, s).sum()  # noqa: E731
    assert all(ll(mu, sigma) >= ll(mu + d, sigma + e)
               for d, e in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)))


def test_bayes_update_and_information_gain():
    post = probability.bayes_update(np.array([0.01, 0.99]), np.array([0.9, 0.05]))
    assert post[0] == pytest.approx(0.009 / (0.009 + 0.0495))
    labels = np.array([0, 0, 1, 1])
    assert probability.information_gain(labels, labels == 0) == pytest.approx(np.log(2))
    assert probability.information_gain(labels, np.array([1, 0, 1, 0], bool)) == pytest.approx(0)


def test_naive_bayes_agrees_with_sklearn_on_shipped_wine():
    pytest.importorskip("sklearn")
    out = naive_bayes.compare_with_sklearn("wine")
    assert out["agreement"] == 1.0
    assert out["ours_accuracy"] == pytest.approx(out["sklearn_accuracy"])
    assert out["max_proba_diff"] < 1e-6


def test_every_figure_of_parts_1_to_3_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    from hubkit.basics import studies

    f = lambda p: float(p[0] ** 2 + 3 * p[1] ** 2)  # noqa: E731
    grad = lambda p: np.array([2 * p[0], 6 * p[1]])  # noqa: E731
    written = [
        linalg.plot_linear_map(np.array([[2.0, 0.5], [0.5, 1.0]]), tmp_path / "map.png"),
        probability.plot_distributions(tmp_path / "dist.png"),
        studies.plot_gradient_field(f, grad, tmp_path / "field.png"),
        studies.plot_step_sizes({0.1: np.array([1.0, 0.5]), 0.4: np.array([1.0, 2.0])},
                                tmp_path / "steps.png"),
        studies.plot_curves({"SGD": np.array([1.0, 0.5])}, tmp_path / "race.png", "race"),
        studies.plot_regularization(studies.regularization_study(), tmp_path / "reg.png"),
    ]
    assert all(p.stat().st_size > 1000 for p in written)
