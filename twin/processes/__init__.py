"""SimPy processes: generators that only yield and change the world's state."""
