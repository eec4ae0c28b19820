# rules of the train stage
