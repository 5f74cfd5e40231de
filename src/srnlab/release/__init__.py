"""The official SRN-DeblurNet release (jiangsutx/SRN-Deblur, TensorFlow 1): reading its checkpoints without
TensorFlow (`tf_checkpoint`, `crc32c`) and mapping their variables onto srnlab's networks (`mapping`)."""
