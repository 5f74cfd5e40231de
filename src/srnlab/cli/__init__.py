"""The console commands, one module each: thin layers that parse a command line (argparse or Hydra) and call
the modules where each concept lives (srnlab.training, srnlab.evaluation, srnlab.deblurring, srnlab.table1,
srnlab.summary, srnlab.weights, srnlab.data.synth). `python -m srnlab.cli.<command>` runs one."""
