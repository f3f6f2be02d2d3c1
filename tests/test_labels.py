from ferkit.labels import EMOTIONS, EMOTIONS_8, canonical_emotion, emotion_classes


def test_canonical_order_is_fer2013s_codes():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert EMOTIONS_8 == (*EMOTIONS, "contempt")


def test_dataset_names_map_onto_the_canonical_ones():
    ferplus = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
    assert [canonical_emotion(n) for n in ferplus] == [
        "neutral",
        "happy",
        "surprise",
        "sad",
        "angry",
        "disgust",
        "fear",
        "contempt",
    ]
    assert canonical_emotion(" Sadness ") == "sad" and canonical_emotion("cat") is None


def test_emotion_classes():
    assert emotion_classes(["happy", "sad"]) == EMOTIONS
    assert emotion_classes(["happy", "contempt"]) == EMOTIONS_8
    assert emotion_classes(["happy", "happiness"]) is None  # two folders for one class: not a clean mapping
    assert emotion_classes(["happy", "cat"]) is None
