"""Figures across apps: the needs figures per grid, community and street, and the grid workers'
quarterly assessment. No models; reads only."""
