"""Research studies behind the suite's defaults, each a command (`python -m srnlab.studies.<name>`) that writes its
report under docs/ and its small result files under ablations/: the learning budget, blur kernel families,
margin curves, plateau diagnostics, the proxy-fidelity study, the GPU profile's extrapolation, the shipped
network's card."""
