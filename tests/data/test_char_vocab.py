"""CharVocab round trips, unknown characters, and next-character windows."""

import numpy as np
import pytest

from dltoys.data import CharVocab, lm_windows

TEXT = "def f(x):\n    return x ** 2  # carré, 🙂\n"


def test_vocab_is_the_sorted_distinct_characters():
    vocab = CharVocab(TEXT)
    assert vocab.chars == "".join(sorted(set(TEXT)))
    assert len(vocab) == len(set(TEXT))
    ids = vocab.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(TEXT),)
    assert [vocab.chars[i] for i in ids] == list(TEXT)


@pytest.mark.parametrize("text", [TEXT, "", "a", "\x00\ud800\U0010ffff", "ßẞ" * 50])
def test_round_trip(text):
    vocab = CharVocab(TEXT + "\x00\ud800\U0010ffffßẞa")
    assert vocab.decode(vocab.encode(text)) == text


def test_rebuilding_from_chars_gives_the_same_vocabulary():
    vocab = CharVocab(TEXT, unknown="?")
    again = CharVocab(vocab.chars, unknown=vocab.unknown)
    assert again == vocab
    np.testing.assert_array_equal(again.encode(TEXT), vocab.encode(TEXT))


def test_unknown_characters_raise_by_default():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match=r"text: 2 character\(s\) are not in the vocabulary, the first 'x' at position 2"):
        vocab.encode("abxcy")
    with pytest.raises(ValueError, match=r"the first 'b' at position 1"):
        CharVocab("ac").encode("ab")  # a gap inside the vocabulary's range


def test_unknown_characters_map_to_the_placeholder():
    vocab = CharVocab("abc", unknown="\ufffd")
    assert vocab.chars == "abc\ufffd" and vocab.unknown_id == 3
    ids = vocab.encode("abxcy")
    np.testing.assert_array_equal(ids, [0, 1, 3, 2, 3])
    assert vocab.decode(ids) == "ab\ufffdc\ufffd"
    # Placeholders below and above every known character work alike.
    vocab = CharVocab("abc", unknown="?")
    np.testing.assert_array_equal(vocab.encode("a~!"), [1, 0, 0])


def test_vocab_argument_errors():
    with pytest.raises(TypeError, match="text: expected a str, received list"):
        CharVocab(["a", "b"])
    with pytest.raises(ValueError, match="text: expected at least one character"):
        CharVocab("")
    with pytest.raises(ValueError, match="unknown: expected None or a single character, received '<unk>'"):
        CharVocab("abc", unknown="<unk>")
    vocab = CharVocab("abc")
    with pytest.raises(TypeError, match="text: expected a str, received bytes"):
        vocab.encode(b"abc")
    with pytest.raises(ValueError, match=r"ids: expected ids in \[0, 2\], received 3"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match=r"ids: expected ids in \[0, 2\], received -1"):
        vocab.decode(np.array([-1]))
    with pytest.raises(TypeError, match="ids: expected integer ids, received dtype float64"):
        vocab.decode(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"ids: expected a 1-D array of shape \(L,\), received shape \(1, 2\)"):
        vocab.decode(np.array([[0, 1]]))


def test_windows_predict_the_next_character():
    ids = np.arange(100) * 3
    inputs, targets = lm_windows(ids, 10)
    assert inputs.shape == targets.shape == (9, 10)  # (100 - 10 - 1) // 10 + 1
    np.testing.assert_array_equal(inputs[2], ids[20:30])
    np.testing.assert_array_equal(targets[2], ids[21:31])
    assert np.shares_memory(inputs, ids)
    inputs, targets = lm_windows(ids, 10, stride=1)
    assert inputs.shape == (90, 10)
    np.testing.assert_array_equal(targets[:, :-1], inputs[:, 1:])
    np.testing.assert_array_equal(targets[89], ids[90:100])


def test_window_errors():
    with pytest.raises(ValueError, match=r"seq_len: expected at most len\(ids\) - 1 = 9 .* received 10"):
        lm_windows(np.arange(10), 10)
    with pytest.raises(ValueError, match="stride: expected an integer >= 1, received 0"):
        lm_windows(np.arange(10), 3, stride=0)
    with pytest.raises(ValueError, match=r"ids: expected a 1-D array of shape \(L,\), received shape \(2, 5\)"):
        lm_windows(np.zeros((2, 5), dtype=int), 3)
