"""The certificates service: signs station CSRs and renews certificates before they expire."""
