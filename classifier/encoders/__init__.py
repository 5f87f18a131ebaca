"""Sentence encoders: the torch and ONNX backends, the exporter and int8 recipe, the embedding cache."""
