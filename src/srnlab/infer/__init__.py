"""The trained network as an image function: photos and folders, tiles, self-ensemble."""
