// Replaced by this executable's real entry point in the change that builds it.
print("not built yet")
