"""The model stage (03): the networks built from parameters (networks) and each built
network as the Python source of an equivalent `keras.Sequential` (network_code)."""
