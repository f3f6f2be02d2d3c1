"""Training and evaluation: the trainer, metrics, calibration, evaluation reports and model cards."""
