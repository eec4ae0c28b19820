# rules of the recipes stage
