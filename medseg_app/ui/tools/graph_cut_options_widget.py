"""Graph cut options: λ, the intensity model, σ, the margin; the scribbles per segment, the first segment seeded
being the object (it receives the cut) and every other segment's seeds the background."""

from __future__ import annotations

from .grow_from_seeds_options_widget import GrowFromSeedsOptionsWidget


class GraphCutOptionsWidget(GrowFromSeedsOptionsWidget):
    def summary(self) -> str:
        counts = self.seed_counts()
        if not counts:
            return ("Object: click seeds in it with its segment active; background: pick another segment "
                    "(e.g. \"Background\") and click around the object.")
        (name, n), rest = counts[0], counts[1:]
        text = f"Object {name}: {n} seed{'s' if n != 1 else ''}"
        background = sum(count for _name, count in rest)
        if background:
            text += f"; background ({', '.join(name for name, _ in rest)}): {background}"
        else:
            text += "; no background seeds yet"
        return text
