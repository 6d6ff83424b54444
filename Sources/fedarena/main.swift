print("fedarena: under construction")
