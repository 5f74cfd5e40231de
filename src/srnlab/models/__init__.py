"""Network building blocks; each Table 1 variant is a Hydra config over these classes."""

from srnlab.models.blocks import ConvPair, ResBlock
from srnlab.models.body import Body
from srnlab.models.bottlenecks import ConvBottleneck, ConvLSTM, ConvRNN, IdentityBottleneck
from srnlab.models.encoder_decoder import EncoderDecoder
from srnlab.models.flat_body import FlatBody
from srnlab.models.scale_recurrent_net import ScaleRecurrentNet

__all__ = [
    "Body",
    "ConvBottleneck",
    "ConvLSTM",
    "ConvPair",
    "ConvRNN",
    "EncoderDecoder",
    "FlatBody",
    "IdentityBottleneck",
    "ResBlock",
    "ScaleRecurrentNet",
]
