// Parameters of deploy/main.bicep. Fill in the values marked below, or override them on the
// command line (`-p registryName=… eventHandlerAudience=…`). The session secret comes from the
// environment variable CHATR_SESSION_SECRET of the shell that deploys (deploy/README.md, step 5).
using 'main.bicep'

param name = 'chatr'
param webPubSubSku = 'Standard_S1'
param webPubSubUnits = 1
param hubName = 'chat'
// The Application ID URI of the app registration for event tokens (README step 3).
param eventHandlerAudience = 'api://chatr-backend'
// Your Azure Container Registry in the same resource group, and the image in it (README step 2).
param registryName = 'chatrregistry'
param image = 'chatr-backend:0.1.0'
// Never commit a real secret: it is read from the environment at deployment.
param sessionSecret = readEnvironmentVariable('CHATR_SESSION_SECRET', '')
param tablePrefix = 'chatr'
param storageSku = 'Standard_GZRS'
// Sign-in providers (README step 4); empty: off.
param githubClientId = ''
param entraTenantId = ''
param entraClientId = ''
// Name-only sign-in: the desktop app's only sign-in today; trials on a trusted audience only.
param localSignIn = false
param minReplicas = 1
param maxReplicas = 10
