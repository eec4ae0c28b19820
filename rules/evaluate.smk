# rules of the evaluate stage
