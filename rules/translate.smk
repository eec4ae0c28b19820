# rules of the translate stage
