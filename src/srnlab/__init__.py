"""srnlab: a Lightning + Hydra reproduction of the SRN-DeblurNet ablation study (Tao et al., CVPR 2018)."""

__version__ = "0.1.0"
