"""Small networks trained for real: data, batched models and optimizers, the training loops (MLP, language model, GAN, federated, distributed) and their instruments."""
