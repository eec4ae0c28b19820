# rules of the generate stage
