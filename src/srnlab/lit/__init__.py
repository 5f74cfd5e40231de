"""Lightning side: the training module (srnlab.lit.module), its loss, metrics, schedule, callbacks and checkpoint
IO. Import from the submodules: this package imports nothing itself, so that its light modules
(srnlab.lit.metrics, srnlab.lit.schedule) do not pull Lightning into commands that only score or deblur.
"""
