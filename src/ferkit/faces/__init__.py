"""Face detection (MTCNN with onnxruntime, OpenCV's Haar cascade) behind one interface."""

from ferkit.faces.detect import DETECTORS, Detection, HaarDetector, MTCNNDetector, create_detector

__all__ = ["DETECTORS", "Detection", "HaarDetector", "MTCNNDetector", "create_detector"]
