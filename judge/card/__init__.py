"""The model card round trip: the eval section between markers, model-index, plot, and the push."""
