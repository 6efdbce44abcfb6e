"""Major faults: report, notification chain, tracking, fault analysis report (§3.8)."""
