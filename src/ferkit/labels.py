"""The emotion classes in one canonical order, their aliases, and the model-input constants.

FER2013 codes its labels 0-6 as (angry, disgust, fear, happy, sad, surprise, neutral); every reader maps its
own names onto that order, and datasets that have contempt (FER+, CK+) append it as class 7.
"""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CONTEMPT = "contempt"
EMOTIONS_8: tuple[str, ...] = EMOTIONS + (CONTEMPT,)

# Names that datasets and users write for the canonical classes (FER+ "happiness", CK+ "anger", ...).
_ALIASES: dict[str, str] = {
    "anger": "angry",
    "angry": "angry",
    "mad": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
    "calm": "neutral",
    "contempt": "contempt",
}

# Preprocessing constants shared by training, evaluation, prediction and serving.
INPUT_SIZE = 48  # FER2013's faces are 48x48 grayscale
INPUT_CHANNELS = 1


def canonical_emotion(name: str) -> str | None:
    """Return the canonical emotion for a dataset's or user's class name, or None if it names no emotion."""
    return _ALIASES.get(name.strip().lower())


def emotion_classes(names: list[str] | tuple[str, ...]) -> tuple[str, ...] | None:
    """The canonical class tuple (7 or 8 classes) that covers `names`, or None if any name is not an emotion."""
    canon = [canonical_emotion(n) for n in names]
    if any(c is None for c in canon) or len(set(canon)) != len(canon):
        return None
    return EMOTIONS_8 if CONTEMPT in canon else EMOTIONS
