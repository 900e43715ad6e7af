"""Named training presets the Train tab offers and other tabs link to."""
from __future__ import annotations

QUICK_LOOK = "Quick look"
SEED_RECIPE = "Seed recipe"
BEST = "Best for this hardware"
SEED_SPREAD = "Seed spread (3 seeds)"
PRECISION_AB = "Precision on vs off"

PRESET_NAMES = [QUICK_LOOK, SEED_RECIPE, BEST, SEED_SPREAD, PRECISION_AB]
