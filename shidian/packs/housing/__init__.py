"""Rural dilapidated-house renovation (农村危房改造), from seeds 07a, 07b and 07c."""
