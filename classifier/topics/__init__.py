"""Topic classification: features, the head, the model, training, evaluation, the model store, data readers, zero-shot topics."""
