"""Dataset readers: FER2013 (CSV and Kaggle folders), FER+, CK+48 and any class-folder dataset, in one form."""

from ferkit.data.dataset import FaceDataset, Problem
from ferkit.data.load import FORMATS, detect_format, load_dataset

__all__ = ["FORMATS", "FaceDataset", "Problem", "detect_format", "load_dataset"]
