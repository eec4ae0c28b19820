# rules of the figures stage
