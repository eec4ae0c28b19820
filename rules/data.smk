# rules of the data stage
