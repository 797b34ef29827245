print("dinoprobe")
